/* SPDX-License-Identifier: GPL-2.0 */
/* Lexer for fringe's line-oriented files: statements of located tokens (see lex.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"

struct lex_state {
	const unsigned char *s;
	size_t len, i;
	int line;
	size_t line_start;	/* offset of the current physical line */
	int reported_line;	/* last line with an encoding error, one report per line */
	bool bad;		/* the current statement holds an encoding error */
	int err;
	struct diags *d;

	/* The first pass (tok NULL) only counts, reports and checks the cap;
	 * the second stores into arrays of exactly the counted sizes. */
	struct lex_tok *tok;
	size_t ntok, maxtok;	/* maxtok: most tokens held at once (a bad statement's are dropped) */
	size_t stmt_first;	/* first token of the current statement */
	size_t *stmt_len;	/* tokens per statement; pointers fixed up at the end */
	size_t nstmt;
	char *text;		/* every word, NUL-terminated */
	size_t ntext, maxtext;
};

static bool lex_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool lex_punct(unsigned char c)
{
	return c == '{' || c == '}' || c == ',';
}

static struct pol_loc lex_loc(const struct lex_state *st, size_t i)
{
	return (struct pol_loc){ .line = st->line, .col = (int)(i - st->line_start + 1) };
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t lex_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, k;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c == 0xe0)
		need = 2, lo = 0xa0;
	else if (c == 0xed)
		need = 2, hi = 0x9f;
	else if (c >= 0xe1 && c <= 0xef)
		need = 2;
	else if (c == 0xf0)
		need = 3, lo = 0x90;
	else if (c == 0xf4)
		need = 3, hi = 0x8f;
	else if (c >= 0xf1 && c <= 0xf3)
		need = 3;
	else
		return 0;
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k <= need; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* Check the character at st->i (inside a word or comment); returns how far to advance. */
static size_t lex_char(struct lex_state *st)
{
	unsigned char c = st->s[st->i];
	size_t n = lex_utf8_len(st->s + st->i, st->len - st->i);

	if (n && c != 0x7f && (c >= 0x20 || c == '\t' || c == '\r'))
		return n;
	st->bad = true;
	st->err = -EINVAL;
	if (st->reported_line != st->line) {
		struct pol_loc loc = lex_loc(st, st->i);

		st->reported_line = st->line;
		if (c == 0)
			diags_add(st->d, loc, "NUL byte in input");
		else if (!n)
			diags_add(st->d, loc, "invalid UTF-8 byte 0x%02x", c);
		else
			diags_add(st->d, loc, "control character 0x%02x in input", c);
	}
	return n ? n : 1;
}

/* A `\` that only blanks and maybe a comment follow on its line. */
static bool lex_continues(const struct lex_state *st, size_t i)
{
	for (i++; i < st->len; i++) {
		if (lex_blank(st->s[i]))
			continue;
		return st->s[i] == '\n' || st->s[i] == '#';
	}
	return true;
}

static void lex_skip_comment(struct lex_state *st)
{
	while (st->i < st->len && st->s[st->i] != '\n')
		st->i += lex_char(st);
}

static int lex_push(struct lex_state *st, enum lex_kind kind, size_t start, size_t end)
{
	static const char *const punct[] = { [LEX_LBRACE] = "{", [LEX_RBRACE] = "}", [LEX_COMMA] = "," };
	struct lex_tok *t;

	if (!st->tok) {		/* counting */
		if (st->ntok == LEX_MAX_TOKENS) {
			diags_add(st->d, lex_loc(st, start),
				  "more than %u words and punctuation marks in one file: no fringe file holds that many (is it the right file?)",
				  LEX_MAX_TOKENS);
			return -E2BIG;
		}
		if (++st->ntok > st->maxtok)
			st->maxtok = st->ntok;
		if (kind == LEX_WORD) {
			st->ntext += end - start + 1;
			if (st->ntext > st->maxtext)
				st->maxtext = st->ntext;
		}
		return 0;
	}
	t = &st->tok[st->ntok++];
	t->kind = kind;
	t->loc = lex_loc(st, start);
	if (kind == LEX_WORD) {
		char *s = st->text + st->ntext;	/* sized by the first pass */

		memcpy(s, st->s + start, end - start);
		s[end - start] = '\0';
		st->ntext += end - start + 1;
		t->s = s;
		t->len = end - start;
	} else {
		t->s = punct[kind];
		t->len = 1;
	}
	return 0;
}

static int lex_end_stmt(struct lex_state *st)
{
	size_t n = st->ntok - st->stmt_first;

	if (st->bad) {
		st->ntok = st->stmt_first;	/* drop it, the error is reported */
		n = 0;
	}
	st->bad = false;
	if (!n)
		return 0;
	if (st->stmt_len)
		st->stmt_len[st->nstmt] = n;
	st->nstmt++;
	st->stmt_first = st->ntok;
	return 0;
}

static void lex_newline(struct lex_state *st)
{
	st->i++;
	st->line++;
	st->line_start = st->i;
}

static int lex_run(struct lex_state *st)
{
	int err;

	while (st->i < st->len) {
		unsigned char c = st->s[st->i];

		if (c == '\n') {
			if ((err = lex_end_stmt(st)))
				return err;
			lex_newline(st);
		} else if (lex_blank(c)) {
			st->i++;
		} else if (c == '#') {
			lex_skip_comment(st);
		} else if (c == '\\' && lex_continues(st, st->i)) {
			lex_skip_comment(st);	/* only blanks and a comment remain */
			if (st->i < st->len)
				lex_newline(st);
		} else if (lex_punct(c)) {
			enum lex_kind k = c == '{' ? LEX_LBRACE : c == '}' ? LEX_RBRACE : LEX_COMMA;

			if ((err = lex_push(st, k, st->i, st->i + 1)))
				return err;
			st->i++;
		} else {
			size_t start = st->i;

			while (st->i < st->len) {
				c = st->s[st->i];
				if (c == '\n' || c == '#' || lex_blank(c) || lex_punct(c) ||
				    (c == '\\' && lex_continues(st, st->i)))
					break;
				st->i += lex_char(st);
			}
			if ((err = lex_push(st, LEX_WORD, start, st->i)))
				return err;
		}
	}
	return lex_end_stmt(st);
}

int lex_statements(const char *text, size_t len, struct diags *d, struct lex_file *out)
{
	struct lex_state st = { .s = (const unsigned char *)text, .len = len, .line = 1, .d = d };
	size_t k, first = 0, skip = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		skip = 3;	/* BOM: columns count from after it */

	/* First pass: count (and report encoding errors, and refuse a file of
	 * more tokens than any fringe file holds) before allocating anything,
	 * so memory is what the file needs, never the doubling of a guess. */
	st.i = st.line_start = skip;
	err = lex_run(&st);
	if (err == -E2BIG)
		return err;
	st = (struct lex_state){ .s = (const unsigned char *)text, .len = len, .line = 1,
				 .maxtok = st.maxtok, .nstmt = st.nstmt, .maxtext = st.maxtext };
	/* Second pass: store (its reports were made by the first, d is NULL). */
	st.tok = malloc((st.maxtok ? st.maxtok : 1) * sizeof(*st.tok));
	st.stmt_len = malloc((st.nstmt ? st.nstmt : 1) * sizeof(*st.stmt_len));
	st.text = malloc(st.maxtext ? st.maxtext : 1);
	if (st.nstmt)
		out->stmt = calloc(st.nstmt, sizeof(*out->stmt));
	if (!st.tok || !st.stmt_len || !st.text || (st.nstmt && !out->stmt))
		goto fail;
	st.nstmt = 0;
	st.i = st.line_start = skip;
	err = lex_run(&st);
	for (k = 0; k < st.nstmt; k++) {
		out->stmt[k].tok = st.tok + first;
		out->stmt[k].n = st.stmt_len[k];
		first += st.stmt_len[k];
	}
	out->n = st.nstmt;
	out->toks_ = st.tok;
	out->text_ = st.text;
	free(st.stmt_len);
	return err ? err : st.err;

fail:
	free(out->stmt);
	out->stmt = NULL;
	free(st.tok);
	free(st.stmt_len);
	free(st.text);
	return -ENOMEM;
}

void lex_free(struct lex_file *f)
{
	if (!f)
		return;
	free(f->stmt);
	free(f->toks_);
	free(f->text_);
	memset(f, 0, sizeof(*f));
}

bool lex_is(const struct lex_tok *t, const char *word)
{
	return t && t->kind == LEX_WORD && !strcmp(t->s, word);
}

/* ---- words shared by every file kind ------------------------------------ */

bool lex_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n >= FRINGE_NAME_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Optimal string alignment distance, small strings only. */
static size_t lex_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The closest of names to s when it is a plausible typo, else NULL. */
const char *lex_suggest(const char *s, const char *const *names)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, i;

	for (i = 0; names[i]; i++) {
		size_t d = lex_distance(s, names[i]);
		size_t max = strlen(names[i]) <= 4 ? 1 : 2;

		if (d <= max && d < bestd) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}

static int lex_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* aa:bb:cc:dd:ee:ff, any case. */
bool lex_mac_parse(const char *s, size_t n, uint8_t mac[6])
{
	int i;

	if (n != 17)
		return false;
	for (i = 0; i < 6; i++) {
		int hi = lex_hex(s[3 * i]), lo = lex_hex(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = hi << 4 | lo;
	}
	return true;
}
