/* SPDX-License-Identifier: GPL-2.0 */
/* Lexer shared by fringe's line-oriented files: policy, nodes file, daemon config. */
#ifndef FRINGE_LEX_H
#define FRINGE_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fringe/abi.h"
#include "diag.h"	/* struct pol_loc, struct diags */

/*
 * Lexical rules (docs/policy.md; the config file shares them):
 *  - UTF-8 text (a leading BOM is skipped); NUL bytes, other control
 *    characters except TAB/CR/LF, and invalid UTF-8 are errors.
 *  - One statement per line; `#` starts a comment to the end of the line,
 *    wherever it appears.
 *  - A `\` followed only by blanks (and optionally a comment) up to the end of
 *    the line continues the statement on the next physical line.  It also
 *    ends the word it is attached to: `80\` + newline + `443` is two words.
 *    A `\` anywhere else is an ordinary word character.
 *  - Tokens: the punctuation `{`, `}`, `,` and words: maximal runs of
 *    anything else that is not blank (space, TAB, CR).
 * Every token keeps the physical line and byte column (1-based) of its first
 * byte, so errors inside continued statements point at the right place.
 */

enum lex_kind {
	LEX_WORD,
	LEX_LBRACE,	/* { */
	LEX_RBRACE,	/* } */
	LEX_COMMA,	/* , */
};

struct lex_tok {
	const char *s;		/* NUL-terminated copy of the token text */
	uint32_t len;		/* strlen(s); files are far below 4 GiB */
	enum lex_kind kind;
	struct pol_loc loc;	/* 24 bytes in all: a file of commas is a token a byte */
};
_Static_assert(sizeof(struct lex_tok) == 24, "struct lex_tok grew");

struct lex_stmt {
	const struct lex_tok *tok;	/* n >= 1 tokens */
	size_t n;
};

struct lex_file {
	struct lex_stmt *stmt;
	size_t n;
	/* storage behind stmt[].tok and tok[].s */
	struct lex_tok *toks_;
	char *text_;
};

/* The most tokens one file may hold: a policy's million set items are two
 * each.  Tokens take 24 bytes, so this bounds the lexer's memory (96 MiB),
 * and a file of garbage is refused after one pass that allocates nothing. */
#define LEX_MAX_TOKENS	(1u << 22)

/* Split text into statements.  Statements holding an encoding error are
 * reported to d (which may be NULL) and left out; the others are still
 * returned so callers can report every error of the file.
 * Returns 0, -EINVAL when an encoding error was reported (out is still
 * filled and must be freed), -E2BIG when the file holds more than
 * LEX_MAX_TOKENS tokens (reported at the first one too many; out is empty),
 * or -ENOMEM (out is empty). */
int lex_statements(const char *text, size_t len, struct diags *d, struct lex_file *out);
void lex_free(struct lex_file *f);

/* Whether t is the word `word` (never true for punctuation or NULL). */
bool lex_is(const struct lex_tok *t, const char *word);

/* Names: [A-Za-z0-9_.-]{1,63}. */
bool lex_name_ok(const char *s, size_t n);
/* The closest of the NULL-terminated words to s when s is a plausible typo, else NULL. */
const char *lex_suggest(const char *s, const char *const *words);
/* aa:bb:cc:dd:ee:ff, any case; n is strlen(s). */
bool lex_mac_parse(const char *s, size_t n, uint8_t mac[6]);

#endif /* FRINGE_LEX_H */
