/* nnrt_vocab.h — the words of the model descriptor's training records and
 * the range of every number they carry, one table for both sides: nnc
 * checks a train block against it (compiler/lower/lower_train.c) and
 * writes its words (compiler/codegen/desc.c); libnnrt parses and checks
 * the descriptor against it (runtime/desc.c).  So a number nnc accepts is
 * one the runtime accepts: the descriptor carries it exactly (%.17g read
 * back by strtod, subnormal numbers included) and both test it against
 * the same range.  nnc may refuse more (a rule between two values, a
 * required argument); it never accepts less.
 *
 * Kinds are enums on both sides; the word of each is its X-macro name. */
#ifndef NNRT_VOCAB_H
#define NNRT_VOCAB_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* [lo, hi], lo itself excluded when lo_open; whole numbers only when integer */
typedef struct nnrt_range { double lo, hi; int lo_open, integer; } nnrt_range;

static inline int nnrt_in_range(const nnrt_range *r, double v)
{
	return v >= r->lo && v <= r->hi && !(r->lo_open && v == r->lo) && (!r->integer || v == floor(v));
}

/* The index of word in words[0..n), or -1. */
static inline int nnrt_word_index(const char *const *words, int n, const char *word)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(words[i], word))
			return i;
	return -1;
}

#define NNRT_ENUM_(PREFIX, ID) PREFIX##ID,
#define NNRT_WORD_(ID, word, ...) #word,

/* ---- data sources: data NAME KIND KEY=VALUE... --------------------------- */
#define NNRT_SOURCE_KINDS(X) X(IDX, idx) X(CSV, csv) X(RANDOM, random) X(ADDING, adding) X(TEXT, text) \
	X(SEQUENCES, sequences)
#define NNRT_SOURCE_ENUM_(ID, word) NNRT_ENUM_(NNRT_SOURCE_, ID)
typedef enum { NNRT_SOURCE_KINDS(NNRT_SOURCE_ENUM_) NNRT_SOURCE__COUNT } nnrt_source_kind;
static const char *const nnrt_source_word[] = { NNRT_SOURCE_KINDS(NNRT_WORD_) };

/* One key of a data record.  word is the descriptor's key, name the
 * argument of the .nn call (positional paths first; shape stands for the
 * three geometry keys), kinds the sources that take it. */
typedef struct nnrt_data_key {
	const char *word, *name;
	unsigned kinds;           /* bit nnrt_source_kind */
	int path;                 /* 1: a quoted file name; 2: one that must be given; 0: a number;
	                             3: a quoted word, one of what's (space-separated) */
	nnrt_range range;
	const char *what;         /* what the number means, for messages; path 3: the words */
} nnrt_data_key;

#define NNRT_IMAGE_ (1u << NNRT_SOURCE_IDX | 1u << NNRT_SOURCE_CSV)
#define NNRT_IMAGE_SIDE_ { 1, 1 << 20, 0, 1 }
static const nnrt_data_key nnrt_data_keys[] = {
	{ "0", "images", 1u << NNRT_SOURCE_IDX, 2, { 0, 0, 0, 0 }, NULL },
	{ "1", "labels", 1u << NNRT_SOURCE_IDX, 1, { 0, 0, 0, 0 }, NULL },
	{ "0", "path", 1u << NNRT_SOURCE_CSV, 2, { 0, 0, 0, 0 }, NULL },
	{ "label", "label", 1u << NNRT_SOURCE_CSV, 0, { -1e9, 1e9, 0, 1 },
	  "the label column, 0-based, negative from the end" },
	{ "header", "header", 1u << NNRT_SOURCE_CSV, 0, { 0, 1e9, 0, 1 }, "the lines skipped first" },
	{ "scale", "scale", NNRT_IMAGE_, 0, { 0, DBL_MAX, 1, 0 }, "the factor of every input value" },
	{ "binarize", "binarize", NNRT_IMAGE_, 0, { -DBL_MAX, DBL_MAX, 0, 0 },
	  "the threshold above which an input value (after scale) is 1, else 0" },
	{ "height", "shape", NNRT_IMAGE_, 0, NNRT_IMAGE_SIDE_, "the image height" },
	{ "width", "shape", NNRT_IMAGE_, 0, NNRT_IMAGE_SIDE_, "the image width" },
	{ "channels", "shape", NNRT_IMAGE_, 0, NNRT_IMAGE_SIDE_, "the image channels" },
	{ "views", "views", NNRT_IMAGE_, 0, { 1, 16, 0, 1 }, "the copies of each image a sample holds" },
	{ "resize", "resize", NNRT_IMAGE_, 0, { 0, 1, 0, 0 },
	  "the smallest fraction of the area a random resized crop keeps (0: none)" },
	{ "crop", "crop", NNRT_IMAGE_, 0, { 0, 1 << 20, 0, 1 }, "the zero padding on each side, in pixels" },
	{ "flip", "flip", NNRT_IMAGE_, 0, { 0, 1, 0, 0 }, "the probability of a horizontal mirror" },
	{ "erase", "erase", NNRT_IMAGE_, 0, { 0, 1, 0, 0 }, "the probability of erasing a random rectangle" },
	{ "noise", "noise", NNRT_IMAGE_, 0, { 0, DBL_MAX, 0, 0 },
	  "the standard deviation of added Gaussian noise" },
	{ "length", "length", 1u << NNRT_SOURCE_ADDING, 0, { 2, 1 << 20, 0, 1 }, "the sequence length T" },
	{ "count", "count", 1u << NNRT_SOURCE_RANDOM | 1u << NNRT_SOURCE_ADDING, 0, { 1, 1e9, 0, 1 },
	  "the number of samples" },
	{ "classes", "classes", 1u << NNRT_SOURCE_RANDOM, 0, { 1, INT32_MAX, 0, 1 }, "the number of label classes" },
	/* text (runtime/data_text.c, docs/text.md) */
	{ "0", "path", 1u << NNRT_SOURCE_TEXT, 2, { 0, 0, 0, 0 }, NULL },
	{ "length", "length", 1u << NNRT_SOURCE_TEXT, 0, { 1, 1 << 20, 0, 1 }, "the characters of a sequence" },
	{ "split", "split", 1u << NNRT_SOURCE_TEXT, 0, { 0, 1, 1, 0 }, "the fraction of the text that trains" },
	{ "part", "part", 1u << NNRT_SOURCE_TEXT, 3, { 0, 0, 0, 0 }, "train validation" },
	/* sequences (runtime/data_seq.c, docs/attention.md): the task first, so that it binds by position */
	{ "task", "task", 1u << NNRT_SOURCE_SEQUENCES, 3, { 0, 0, 0, 0 }, "sort reverse" },
	{ "length", "length", 1u << NNRT_SOURCE_SEQUENCES, 0, { 4, 256, 0, 1 }, "the digits of an input sequence" },
	{ "count", "count", 1u << NNRT_SOURCE_SEQUENCES, 0, { 1, 1e7, 0, 1 }, "the number of sequences" },
	{ "part", "part", 1u << NNRT_SOURCE_SEQUENCES, 3, { 0, 0, 0, 0 }, "train heldout" },
	/* masked-language-model targets and category labels (runtime/data_text_tasks.c) */
	{ "mask", "mask", 1u << NNRT_SOURCE_TEXT, 0, { 0, 1, 1, 0 }, "the fraction of positions to predict" },
	{ "labels", "labels", 1u << NNRT_SOURCE_TEXT, 3, { 0, 0, 0, 0 }, "files" },
};
enum { NNRT_NDATA_KEYS = sizeof nnrt_data_keys / sizeof *nnrt_data_keys };
#undef NNRT_IMAGE_
#undef NNRT_IMAGE_SIDE_

/* Whether s is one of the space-separated words. */
static inline int nnrt_is_word(const char *words, const char *s)
{
	size_t n = strlen(s);
	for (const char *p = words; *p; p += strcspn(p, " "), p += *p == ' ')
		if (n && strcspn(p, " ") == n && !strncmp(p, s, n))
			return 1;
	return 0;
}

/* The key of a data record of this kind, or NULL. */
static inline const nnrt_data_key *nnrt_data_key_of(nnrt_source_kind kind, const char *word)
{
	for (int i = 0; i < NNRT_NDATA_KEYS; i++)
		if (nnrt_data_keys[i].kinds >> kind & 1 && !strcmp(nnrt_data_keys[i].word, word))
			return &nnrt_data_keys[i];
	return NULL;
}

/* ---- optimizer NAME KEY=VALUE...: every key but an unset clip, in this order */
#define NNRT_OPTIMIZERS(X) X(SGD, sgd) X(ADAM, adam) X(ADAMW, adamw)
#define NNRT_OPTIMIZER_ENUM_(ID, word) NNRT_ENUM_(NNRT_OPT_, ID)
typedef enum { NNRT_OPTIMIZERS(NNRT_OPTIMIZER_ENUM_) NNRT_OPT__COUNT } nnrt_optimizer;
static const char *const nnrt_optimizer_word[] = { NNRT_OPTIMIZERS(NNRT_WORD_) };

/* X(ID, WORD, RANGE).  clip, the bound of the gradients' global norm, is
 * the one key left out when unset (0): a model without it keeps the
 * descriptor and checkpoint bytes it had before clipping existed. */
#define NNRT_OPT_KEYS(X)                                                                       \
	X(LR, lr, ((nnrt_range){ 0, 1e6, 1, 0 }))                                              \
	X(MOMENTUM, momentum, ((nnrt_range){ 0, 0.999999, 0, 0 }))                             \
	X(NESTEROV, nesterov, ((nnrt_range){ 0, 1, 0, 1 }))                                    \
	X(WEIGHT_DECAY, weight_decay, ((nnrt_range){ 0, 1e6, 0, 0 }))                          \
	X(BETA1, beta1, ((nnrt_range){ 0, 0.999999, 0, 0 }))                                   \
	X(BETA2, beta2, ((nnrt_range){ 0, 0.999999999, 0, 0 }))                                \
	X(EPS, eps, ((nnrt_range){ 0, 1, 1, 0 }))                                              \
	X(CLIP, clip, ((nnrt_range){ 0, DBL_MAX, 1, 0 }))
#define NNRT_OPT_KEY_ENUM_(ID, word, range) NNRT_ENUM_(NNRT_OPTK_, ID)
#define NNRT_RANGE_(ID, word, range) range,
typedef enum { NNRT_OPT_KEYS(NNRT_OPT_KEY_ENUM_) NNRT_OPTK__COUNT } nnrt_opt_key;
static const char *const nnrt_opt_key_word[] = { NNRT_OPT_KEYS(NNRT_WORD_) };
static const nnrt_range nnrt_opt_key_range[] = { NNRT_OPT_KEYS(NNRT_RANGE_) };

/* ---- schedule NAME KEY=VALUE...: every key, in this order ---------------- */
#define NNRT_SCHEDULES(X) X(CONSTANT, constant) X(STEP, step) X(COSINE, cosine)
#define NNRT_SCHEDULE_ENUM_(ID, word) NNRT_ENUM_(NNRT_SCHED_, ID)
typedef enum { NNRT_SCHEDULES(NNRT_SCHEDULE_ENUM_) NNRT_SCHED__COUNT } nnrt_schedule;
static const char *const nnrt_schedule_word[] = { NNRT_SCHEDULES(NNRT_WORD_) };

/* warmup and step_size in epochs; step_size 0 where the schedule is not step */
#define NNRT_SCHED_KEYS(X)                                                                     \
	X(WARMUP, warmup, ((nnrt_range){ 0, 1e9, 0, 0 }))                                      \
	X(STEP_SIZE, step_size, ((nnrt_range){ 0, 1e9, 0, 0 }))                                \
	X(GAMMA, gamma, ((nnrt_range){ 0, 1, 1, 0 }))                                          \
	X(MIN_LR, min_lr, ((nnrt_range){ 0, 1e6, 0, 0 }))
#define NNRT_SCHED_KEY_ENUM_(ID, word, range) NNRT_ENUM_(NNRT_SCHEDK_, ID)
typedef enum { NNRT_SCHED_KEYS(NNRT_SCHED_KEY_ENUM_) NNRT_SCHEDK__COUNT } nnrt_sched_key;
static const char *const nnrt_sched_key_word[] = { NNRT_SCHED_KEYS(NNRT_WORD_) };
static const nnrt_range nnrt_sched_key_range[] = { NNRT_SCHED_KEYS(NNRT_RANGE_) };

/* ---- batch N, epochs N, seed N ------------------------------------------- */
#define NNRT_SETTINGS(X) X(BATCH, batch, 1, 1 << 20) X(EPOCHS, epochs, 1, 1000000) X(SEED, seed, 0, INT64_MAX)
#define NNRT_SETTING_ENUM_(ID, word, lo, hi) NNRT_ENUM_(NNRT_SET_, ID)
#define NNRT_SETTING_LO_(ID, word, lo, hi) lo,
#define NNRT_SETTING_HI_(ID, word, lo, hi) hi,
typedef enum { NNRT_SETTINGS(NNRT_SETTING_ENUM_) NNRT_SET__COUNT } nnrt_setting;
static const char *const nnrt_setting_word[] = { NNRT_SETTINGS(NNRT_WORD_) };
static const int64_t nnrt_setting_lo[] = { NNRT_SETTINGS(NNRT_SETTING_LO_) };
static const int64_t nnrt_setting_hi[] = { NNRT_SETTINGS(NNRT_SETTING_HI_) };

/* ---- report METRIC SOURCE -------------------------------------------------- */
#define NNRT_METRICS(X) X(ACCURACY, accuracy) X(LOSS, loss) X(BPC, bpc) X(FREE_ENERGY, free_energy) \
	X(RECONSTRUCTION, reconstruction)
#define NNRT_METRIC_ENUM_(ID, word) NNRT_ENUM_(NNRT_METRIC_, ID)
typedef enum { NNRT_METRICS(NNRT_METRIC_ENUM_) NNRT_METRIC__COUNT } nnrt_metric;
static const char *const nnrt_metric_word[] = { NNRT_METRICS(NNRT_WORD_) };

/* ---- tensor ... init=KIND a=A b=B gain=G fan_in=N fan_out=N ------------------ */
#define NNRT_INIT_KINDS(X)                                                                     \
	X(NONE, none) X(ZEROS, zeros) X(ONES, ones) X(CONSTANT, constant) X(NORMAL, normal)    \
	X(UNIFORM, uniform) X(XAVIER_UNIFORM, xavier_uniform) X(XAVIER_NORMAL, xavier_normal)  \
	X(HE_UNIFORM, he_uniform) X(HE_NORMAL, he_normal)
#define NNRT_INIT_ENUM_(ID, word) NNRT_ENUM_(NNRT_INIT_, ID)
typedef enum { NNRT_INIT_KINDS(NNRT_INIT_ENUM_) NNRT_INIT__COUNT } nnrt_init;
static const char *const nnrt_init_word[] = { NNRT_INIT_KINDS(NNRT_WORD_) };

/* a and b (constant: a; normal: mean a, std b; uniform: [a, b)) are any
 * finite numbers, gain positive, the fans counts. */
#define NNRT_INIT_KEYS(X)                                                                      \
	X(A, a, ((nnrt_range){ -DBL_MAX, DBL_MAX, 0, 0 }))                                     \
	X(B, b, ((nnrt_range){ -DBL_MAX, DBL_MAX, 0, 0 }))                                     \
	X(GAIN, gain, ((nnrt_range){ 0, DBL_MAX, 1, 0 }))                                      \
	X(FAN_IN, fan_in, ((nnrt_range){ 0, 9007199254740992.0, 0, 1 }))                      \
	X(FAN_OUT, fan_out, ((nnrt_range){ 0, 9007199254740992.0, 0, 1 }))
#define NNRT_INIT_KEY_ENUM_(ID, word, range) NNRT_ENUM_(NNRT_INITK_, ID)
typedef enum { NNRT_INIT_KEYS(NNRT_INIT_KEY_ENUM_) NNRT_INITK__COUNT } nnrt_init_key;
static const char *const nnrt_init_key_word[] = { NNRT_INIT_KEYS(NNRT_WORD_) };
static const nnrt_range nnrt_init_key_range[] = { NNRT_INIT_KEYS(NNRT_RANGE_) };

#endif
