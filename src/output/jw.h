/* JSON text written straight into a reused buffer, no tree (RFC 8259), strings escaped as jansson 2.14 escapes them. */
#ifndef HOPSCOPE_JW_H
#define HOPSCOPE_JW_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>

/* The most one text may grow to unless jw_init says otherwise: far above any record (every list in a record is
 * capped), low enough that a bug cannot eat the memory. */
#define JW_MAX_DEFAULT ((size_t)64 << 20)

/*
 * A writer. A zeroed struct jw is an empty writer with the default cap; jw_reset empties it for the next text and
 * keeps the buffer, so a writer reused line after line allocates only while its buffer grows (by doubling).
 *
 * Values and keys go in the order JSON has them: jw_key then the value inside an object, values alone inside an
 * array; the writer puts the ',' and ':' (compact, no whitespace). It does not check that calls nest: a caller
 * that ends an array with jw_object_end gets what it asked for.
 */
struct jw {
    char *buf; /* malloc'd, cap bytes; the text is buf[0, len), not NUL-terminated */
    size_t len, cap;
    size_t max;  /* the most cap may reach, in bytes; 0: JW_MAX_DEFAULT */
    bool comma;  /* the next key or value follows a sibling: ',' first */
    bool failed; /* out of memory, or the text would pass max: the text is incomplete; later calls write nothing
                    until jw_reset */
};

/* Where the text was, to go back to (jw_rewind), e.g. to take back a member that turned out to have no content. */
struct jw_mark {
    size_t len;
    bool comma;
};

/* An empty writer whose buffer may grow to max bytes (0: JW_MAX_DEFAULT). Allocates nothing. */
void jw_init(struct jw *w, size_t max);

/* Empties the text (and clears failed), keeping the buffer. */
void jw_reset(struct jw *w);

/* Frees the buffer; w is then an empty writer again, with the same max. */
void jw_free(struct jw *w);

/* Ends the text with a NUL and hands over the buffer: a malloc'd C string the caller frees, or NULL when the text
 * failed (out of memory, past max) or the NUL does not fit. w is left empty, with no buffer. */
char *jw_release(struct jw *w);

void jw_object_begin(struct jw *w); /* '{' */
void jw_object_end(struct jw *w);   /* '}' */
void jw_array_begin(struct jw *w);  /* '[' */
void jw_array_end(struct jw *w);    /* ']' */

/* Ends the object begun right after m, or, when nothing was put in it, takes it back with whatever was written
 * since m (its key): jansson's "add the object only if it is not empty". Returns whether the object was kept. */
bool jw_object_end_or_drop(struct jw *w, struct jw_mark m);

/* The same for an array. */
bool jw_array_end_or_drop(struct jw *w, struct jw_mark m);

/* A member's name: the n bytes at k, escaped as jw_string escapes. The member's value comes next. */
void jw_keyn(struct jw *w, const char *k, size_t n);

/* ... k, NUL-terminated (inline, so that a literal's length is known when compiled). */
static inline void jw_key(struct jw *w, const char *k)
{
    jw_keyn(w, k, strlen(k));
}

/*
 * A string value: the n bytes at s, NUL bytes included (each written \u0000), as jansson's json_dumps writes it
 * (what hopscope wrote before jw):
 * '"' and '\' escaped with '\', the control characters below U+0020 as \b \f \n \r \t or \u00XX (upper-case hex),
 * everything else as it is (DEL, '/', U+2028 and U+2029 included); each byte that does not start a valid UTF-8
 * sequence (RFC 3629 4: no overlong forms, no surrogates, nothing past U+10FFFF) is written as U+FFFD, and the
 * bytes after it are looked at again. The string asks for room for its worst case, 6 bytes a byte, before it is
 * written: max bounds that too.
 */
void jw_stringn(struct jw *w, const char *s, size_t n);

/* ... s, NUL-terminated (not NULL; inline, as jw_key). */
static inline void jw_string(struct jw *w, const char *s)
{
    jw_stringn(w, s, strlen(s));
}

/* Integers in decimal, as jansson prints a json_int_t ("%lld"); jw_uint for values past INT64_MAX. */
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);

void jw_bool(struct jw *w, bool v); /* true / false */
void jw_null(struct jw *w);         /* null */

/* n bytes appended as they are, outside the JSON grammar (a line's '\n'); the next key or value still gets its
 * ',' when one is due. */
void jw_raw(struct jw *w, const char *s, size_t n);

static inline struct jw_mark jw_mark(const struct jw *w)
{
    struct jw_mark m = {w->len, w->comma};
    return m;
}

/* Takes back everything written since m (m must come from this text, since the last jw_reset). failed stays. */
static inline void jw_rewind(struct jw *w, struct jw_mark m)
{
    if (m.len <= w->len) {
        w->len = m.len;
        w->comma = m.comma;
    }
}

#endif
