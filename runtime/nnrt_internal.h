/* nnrt_internal.h — the runtime's table of contents: the parsed model
 * descriptor, data sets, the RNG, checkpoints and the trainer state.
 *
 * Ownership: everything here is allocated once, before the first step,
 * and lives until the process exits (rt_alloc never returns NULL and is
 * never freed piecemeal); the training step itself allocates nothing. */
#ifndef NNRT_INTERNAL_H
#define NNRT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include "nnrt.h"
#include "nnrt_exit.h"
#include "nnrt_vocab.h"

/* Exit statuses, the runtime's names for nnrt_exit.h's table. */
enum {
	RT_EXIT_FAIL = NNRT_EXIT_FAIL,   /* a check failed (gradcheck above --tol) */
	RT_EXIT_USAGE = NNRT_EXIT_USAGE,
	RT_EXIT_IO = NNRT_EXIT_IO,
	RT_EXIT_NOMEM = NNRT_EXIT_NOMEM,
	RT_EXIT_NUMERIC = NNRT_EXIT_NUMERIC,
	RT_EXIT_INTERNAL = NNRT_EXIT_INTERNAL,
};

/* ---- arena.c: allocation and messages ---------------------------------- */
extern const char *rt_progname;          /* "trainer" or argv[0]'s basename */
void *rt_alloc(size_t n);                /* zeroed; exits 4 when memory runs out */
void *rt_alloc_aligned(size_t n);        /* zeroed, 64-byte aligned */
void *rt_realloc(void *old, size_t n);   /* exits 4 when memory runs out */
char *rt_strdup(const char *s);
char *rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void rt_fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- set once at start ---------------------------------------------------- */
void rt_set_random_seed(uint64_t seed);  /* random.c: the --seed of compiled random draws */
void rt_blas_setup(void);                /* blas.c: the OpenBLAS kernels this CPU runs */
const char *rt_blas_note(void);          /* blas.c: which kernels, for `info` */

/* ---- pool.c: the threads of --threads (see pool.c for the bytes rule) ---- */
typedef void RtTask(void *ctx, int64_t task, int worker);   /* worker: 0 .. threads-1 */
void rt_pool_start(int threads);         /* once, before the first step */
int rt_pool_threads(void);
void rt_pool_run(int64_t ntasks, RtTask *fn, void *ctx);   /* each task once; returns when all ran */
void *rt_pool_buffer(int worker, size_t bytes);            /* that thread's own block, grown once */

/* ---- fault.c: test hooks and signals (see trainer(1), ENVIRONMENT) ------- */
int rt_fault_alloc(void);                /* 1: fail this allocation (NNRT_FAIL_ALLOC=N) */
int rt_fault_write(void);                /* 1 and errno set: fail this write (NNRT_FAULT_WRITE=N) */
void rt_fault_signal(int64_t step);      /* NNRT_FAULT_SIGNAL=N: raise SIGINT/SIGTERM at step N */
extern volatile sig_atomic_t rt_stop_signal;   /* SIGINT/SIGTERM seen, else 0 */
void rt_signals_install(void);
const char *rt_signal_name(int sig);

/* ---- desc.c: the model descriptor ---------------------------------------- */
typedef enum { RT_F32, RT_F64, RT_I32 } RtDType;
enum { RT_MAX_DIM = 8 };

typedef struct RtShape {
	int ndim;
	int64_t dim[RT_MAX_DIM];   /* -1 stands for the batch dimension B */
} RtShape;

typedef enum { RT_PARAM, RT_GRAD, RT_STATE, RT_BUFFER } RtTensorRole;   /* buffer: running statistics */
typedef enum { RT_INPUT, RT_TARGET, RT_OUTPUT } RtIoRole;

typedef struct RtInit {
	nnrt_init kind;            /* NNRT_INIT_NONE when the tensor has no init= */
	double a, b, gain;
	int64_t fan_in, fan_out;
} RtInit;

typedef struct RtTensor {
	char *name;
	RtTensorRole role;
	RtDType dt;
	RtShape shape;
	int64_t count;             /* elements; tensors in the state block have no B */
	int64_t offset;            /* bytes into the state block */
	char *of;                  /* grad/state: the parameter's name */
	int of_index;              /* index of that parameter in RtDesc.tensor, else -1 */
	RtInit init;
	char *at;                  /* param: "FILE:LINE" of its declaration, or NULL */
} RtTensor;

typedef struct RtIo {
	char *name;
	RtIoRole role;
	RtDType dt;
	RtShape shape;
	int io;                    /* index into nnrt_step.io */
	int64_t per_sample;        /* elements per unit of B */
} RtIo;

typedef struct RtKeyVal { char *key; char *str; double num; int is_str; } RtKeyVal;

typedef struct RtSource {
	char *name;
	nnrt_source_kind kind;
	RtKeyVal *arg;
	int narg;
} RtSource;

enum { RT_SCRATCH_EVAL, RT_SCRATCH_GRAD, RT_SCRATCH_UPDATE, RT_NSCRATCH };

typedef struct RtLayer {       /* one row of `trainer info`'s layer table */
	char *name;                /* the call in the .nn file, e.g. "dense(x, 256)" */
	RtShape shape;             /* of its last value */
	int64_t params;            /* elements of the parameters it uses first */
	int64_t flops_fixed, flops_per_sample;   /* forward: fixed + per_sample * B */
} RtLayer;

typedef struct RtDesc {
	char *model, *source;
	char *loss_at;             /* "FILE:LINE" of the loss, or NULL */
	char *output_is;           /* "logits", "probabilities": how the loss reads the output; NULL */
	int64_t min_batch;         /* smallest training batch with batch statistics (1: any) */
	char *min_batch_at;        /* "FILE:LINE" of the batch norm that needs it, or NULL */
	int64_t carry_batch;       /* a scan carries its state across training batches: each has
	                              exactly this many samples (0: any) */
	char *carry_batch_at;      /* "FILE:LINE" of that scan, or NULL */
	RtDType precision;
	char signature[17];
	RtIo io[NNRT_MAX_IO];
	int nio;
	int hyper_lr, hyper_step;  /* indices into nnrt_step.hyper, -1 if absent */
	RtTensor *tensor;
	int ntensor;
	int64_t state_bytes;
	int64_t scratch_fixed[RT_NSCRATCH], scratch_per_sample[RT_NSCRATCH];
	int has_flops;             /* flops records seen; then flops_* hold them */
	int64_t flops_fixed[RT_NSCRATCH], flops_per_sample[RT_NSCRATCH];
	RtLayer *layer;
	int nlayer;
	RtSource *src;
	int nsrc;
	char *train_source;
	nnrt_optimizer optimizer;
	double lr, momentum, weight_decay, beta1, beta2, eps;
	double clip;             /* 0: no clipping (compiled into update; recorded here) */
	int nesterov;
	nnrt_schedule schedule;
	double warmup, step_size, gamma, min_lr;
	int64_t batch, epochs, seed;
	nnrt_metric *report_metric;
	char **report_source;
	int nreport;
} RtDesc;

/* Parses text; on a malformed descriptor writes "line N: why" into err
 * and returns NULL (the caller reports it as an internal error). */
RtDesc *rt_desc_parse(const char *text, char *err, size_t errlen);
const RtIo *rt_desc_io(const RtDesc *d, RtIoRole role);     /* first io of that role, or NULL */
const RtSource *rt_desc_source(const RtDesc *d, const char *name);
const RtKeyVal *rt_source_arg(const RtSource *s, const char *key);
int64_t rt_dtype_size(RtDType dt);
const char *rt_dtype_name(RtDType dt);
void rt_shape_str(const RtShape *s, char *buf, size_t len);

/* ---- rng.c: xoshiro256** seeded by splitmix64 ----------------------------- */
typedef struct RtRng { uint64_t s[4]; } RtRng;
void rt_rng_seed(RtRng *r, uint64_t seed, uint64_t stream);
uint64_t rt_rng_next(RtRng *r);
double rt_rng_uniform(RtRng *r);                 /* [0, 1) with 53 random bits */
double rt_rng_normal(RtRng *r);                  /* N(0, 1), Box-Muller, two uniforms per call */
uint64_t rt_rng_below(RtRng *r, uint64_t n);     /* uniform in [0, n), unbiased */
void rt_rng_permutation(RtRng *r, int64_t *perm, int64_t n);

/* ---- data*.c: data sets -------------------------------------------------- */
typedef struct RtVocab {       /* a text corpus's characters: id i is code point cp[i], ascending */
	int64_t n;
	int32_t *cp;
} RtVocab;

typedef struct RtData {
	char *name;
	char *origin;              /* what was loaded, for the log header */
	int64_t n;                 /* samples */
	int64_t x_per, y_per;      /* elements per sample */
	RtDType x_dt, y_dt;        /* x: the program's float type; y: the target's dtype */
	void *x, *y;               /* y may be NULL (no labels); x is NULL when x_u8 holds the inputs */
	/* IDX u8 images stay bytes (a quarter of float32): x_lut[b] is byte b
	 * as the float type after scale, applied as a batch is gathered. */
	unsigned char *x_u8;
	void *x_lut;
	int64_t height, width, channels;   /* image geometry of a sample (NHWC), 0 when unknown */
	int64_t views, image_per;  /* views: 2 gathers each stored image (image_per values) twice,
	                              x_per = views * image_per; otherwise 1 and x_per */
	int ordered;               /* batches in sample order, never shuffled (text: streams go on) */
	const RtVocab *vocab;      /* text: the corpus's vocabulary; else NULL */
	int32_t *unmasked;         /* text with mask: x before masking, which training draws anew */
	double mask_rate;          /* text with mask: the fraction chosen; else 0 */
} RtData;

/* What a source does to every input value as it loads: times scale,
 * then, with binary set, 1 above threshold and 0 elsewhere. */
typedef struct RtInputMap { double scale, threshold; int binary; } RtInputMap;

typedef struct RtDataSpec {    /* what the model expects of every source */
	RtDType precision;
	int64_t x_per;
	int has_y;
	RtDType y_dt;
	int64_t y_per;
	int64_t classes;           /* labels must lie in [0, classes); 0 = unchecked */
	const char *data_dir;      /* --data-dir or NULL */
	const char *source_dir;    /* directory of the .nn file */
	uint64_t seed;
	RtInputMap input_map;      /* predict --input: the training source's scale and binarize */
	RtDType x_dt;              /* the input's dtype: i32 for a text source's character ids */
	int64_t batch;             /* B: a text source cuts its text into B streams */
	int quiet;                 /* --quiet: a source that reports what it made says nothing */
} RtDataSpec;

/* data_read.c: a file read whole and once, so that pipes work; "-" is
 * standard input.  gunzip: inflate gzip (plain bytes pass unchanged). */
typedef struct RtBytes {
	char *p;                   /* n bytes, then a NUL */
	size_t n;
	int gzip;                  /* the file was gzip, p holds it inflated */
	char *gzip_error;          /* zlib's word on a damaged stream (p: what came before), else NULL */
} RtBytes;
const char *rt_input_name(const char *path);   /* the path, or "standard input" for "-" */
/* Readers report into a caller's buffer: writes the message, returns -1. */
int rt_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rt_read_whole(const char *path, int gunzip, RtBytes *out, char *err, size_t errlen);

/* data_idx.c: one IDX file (plain or gzip), kept as its raw big-endian
 * bytes (a u8 data set stays 1 byte an element until converted).  parse
 * takes b->p over as raw (freed on failure); name is for messages. */
typedef struct RtIdx { int ndim, type; int64_t dim[RT_MAX_DIM]; int64_t n, per; unsigned char *raw; } RtIdx;
int rt_idx_read(const char *path, RtIdx *out, char *err, size_t errlen);
int rt_idx_parse(RtBytes *b, const char *name, RtIdx *out, char *err, size_t errlen);
double rt_idx_get(const RtIdx *idx, int64_t i);   /* element i (row-major) as a double */

/* data_csv.c: numeric CSV (plain or gzip) into a row-major table of
 * doubles, the first `header` lines skipped. */
typedef struct RtCsv { int64_t rows, cols; double *v; } RtCsv;
int rt_csv_read(const char *path, int64_t header, RtCsv *out, char *err, size_t errlen);
int rt_csv_parse(const RtBytes *b, const char *name, int64_t header, RtCsv *out, char *err, size_t errlen);

/* data_text.c: the text source (docs/text.md) and its vocabulary */
typedef struct RtText {        /* a corpus: code points (ids once the vocabulary is made) */
	int32_t *cp;
	int64_t n, cap;
	int64_t *file_end;         /* file i's characters end at file_end[i] (files in name order) */
	int64_t nfile;
} RtText;
RtData *rt_text_load(const RtSource *s, const RtDataSpec *spec);
/* data_text_tasks.c: mask: masked-language-model targets, in place over
 * the x of d (y allocated here); labels: "files": a sample per fortune,
 * labelled with its file's index (docs/text.md, "BERT's data") */
void rt_text_mask(RtData *d, const RtSource *s, const RtDataSpec *spec, int64_t vocab, double rate);
/* A training batch's masks drawn anew: count samples from `first` in the
 * epoch's order, x and y as gathered (y may be NULL), a function of
 * (seed, epoch, position) as augmentation's draws are. */
void rt_text_remask(const RtData *d, int32_t *x, int32_t *y, int64_t count, uint64_t seed, int64_t epoch,
                    int64_t first);
RtData *rt_text_categories(const RtSource *s, const RtDataSpec *spec, const RtText *t, const RtVocab *v,
                           const char *path);
uint64_t rt_name_stream(const char *name);   /* data.c: a source's random stream, from its name */
char *rt_vocab_format(const RtVocab *v);                   /* "U+000A U+0020 ...", checkpoint metadata */
int rt_vocab_parse(const char *s, RtVocab *out);           /* -1 unless ascending code points */
const char *rt_char_name(int32_t cp);                      /* "'a' (U+0061)", "U+000A" */
/* One code point from p[0..left) by the strict rules of UTF-8 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF): its length
 * in bytes, or 0 where the bytes are not UTF-8. */
int rt_utf8_decode(const unsigned char *p, size_t left, int32_t *cp);
int rt_utf8_encode(int32_t cp, char *out);                 /* 1 to 4 bytes written */

/* data_seq.c: the sequences source (docs/attention.md, seq2seq): digit
 * strings and a task's answers, ids of one fixed vocabulary whose id 0 is
 * the decoder's start mark */
enum { RT_SEQ_START = 0x02 };                              /* U+0002, START OF TEXT */
extern const RtVocab rt_seq_vocab;
RtData *rt_seq_load(const RtSource *s, const RtDataSpec *spec);
int rt_seq_heldout(const int32_t *ids, int64_t n);         /* 1: a held-out input (the part rule) */

/* data.c */
char *rt_resolve_path(const char *name, const RtDataSpec *spec);  /* exits 3 naming the places tried */
char *rt_resolve_corpus(const char *name, const RtDataSpec *spec);  /* a file or a directory, likewise */
RtData *rt_data_load(const RtSource *src, const RtDataSpec *spec);
RtData *rt_data_from_file(const char *path, const RtDataSpec *spec);  /* predict --input */
RtInputMap rt_input_map(const RtSource *s);   /* a source's scale and binarize */
void rt_data_gather(const RtData *d, const int64_t *idx, int64_t start, int64_t count,
                    void *x_out, void *y_out);  /* idx NULL: in order */

/* ---- augment.c: resized crop, crop, flip, erasing and noise on training batches */
typedef struct RtAugment {
	double resize;             /* random resized crop: the smallest fraction of the area kept (0: off) */
	int64_t crop;              /* zeros padded on each side; offsets drawn in [0, 2 crop] */
	double flip;               /* probability of mirroring the columns */
	double erase;              /* probability of erasing a random rectangle */
	double noise;              /* standard deviation of the added Gaussian noise */
	int64_t height, width, channels;   /* from RtData; all but noise need them */
	int64_t per, views;        /* values of one image; images (views) a sample */
	void *tmp;                 /* one image: the source of a crop */
} RtAugment;

typedef struct RtBox { int64_t y, x, h, w; int on; } RtBox;   /* a rectangle of pixels */

typedef struct RtAugmentDraw {
	RtBox area;                /* resize: the part scaled back to the whole image */
	int64_t dy, dx;            /* crop offsets into the padded image (crop, crop: none) */
	int mirror;
	RtBox erased;              /* erase: the rectangle set to zero */
	RtRng rng;                 /* goes on to draw the noise */
} RtAugmentDraw;

/* The training source's augmentation, or NULL when it has none; exits 3
 * when crop or flip meet samples without an image geometry. */
RtAugment *rt_augment_new(const RtSource *s, const RtData *d);
/* The draws of one image: a function of (seed, epoch, position in the epoch, view). */
RtAugmentDraw rt_augment_draw(const RtAugment *a, uint64_t seed, int64_t epoch, int64_t position, int64_t view);
/* Crop at offsets (dy, dx) of the zero-padded image, then mirror: in place. */
void rt_augment_shift(const RtAugment *a, RtDType dt, void *x, int64_t dy, int64_t dx, int mirror);
/* One image (view `view` of the sample at `position` in the epoch's order), in place. */
void rt_augment_image(const RtAugment *a, RtDType dt, void *x, uint64_t seed, int64_t epoch, int64_t position,
                      int64_t view);
/* count samples (a->views images each) at x, the first at `first` in the epoch's order */
void rt_augment_batch(const RtAugment *a, RtDType dt, void *x, int64_t count, uint64_t seed, int64_t epoch,
                      int64_t first);

/* ---- checkpoint.c: safetensors ------------------------------------------- */
typedef struct RtMeta { char *key[64]; char *val[64]; int n; } RtMeta;
void rt_meta_set(RtMeta *m, const char *key, const char *val);
const char *rt_meta_get(const RtMeta *m, const char *key);
/* Writes the param and optimizer-state tensors atomically; exits 3 on error. */
void rt_checkpoint_save(const char *path, const RtDesc *d, const char *state, const RtMeta *meta);
char *rt_save_target(const char *path);          /* path with its symbolic links followed */
const char *rt_save_refusal(const char *target); /* why a save cannot replace target, or NULL */
/* Reads into state after checking every tensor; on error writes a one-line
 * reason into err and returns -1 (state may be partly written). */
int rt_checkpoint_load(const char *path, const RtDesc *d, char *state, RtMeta *meta,
                       char *err, size_t errlen);
int rt_checkpoint_meta(const char *path, RtMeta *meta, char *err, size_t errlen);   /* the metadata alone */
/* --init: reads the PARAM and BUFFER tensors of d found by name in path
 * into state (loaded[i] = 1 for each tensor i read); -1 and a reason in
 * err on a damaged file or a same-named tensor of another shape. */
int rt_checkpoint_init(const char *path, const RtDesc *d, char *state, RtMeta *meta, char *loaded,
                       char *err, size_t errlen);

/* ---- the trainer ----------------------------------------------------------- */
typedef struct RtModel {
	void (*eval)(nnrt_step *);
	void (*grad)(nnrt_step *);
	void (*update)(nnrt_step *);
	const char *descriptor;
	const char *listing;       /* nnm_listing, or NULL (trace.c) */
} RtModel;

typedef struct RtOptions {
	const char *command;       /* train, eval, predict, gradcheck, info */
	int64_t epochs, batch, seed, threads, save_every;
	int64_t shards;            /* --shards, or the ranks under mpirun (shard.c) */
	double lr, tol;
	int has_lr, has_tol, has_seed, all, quiet;
	int eval;                  /* decode --eval: the held-out source, scored */
	int check_numerics;        /* 1 unless --no-check-numerics */
	int64_t max_memory;        /* --max-memory in bytes, 0 = no limit */
	const char *init;          /* --init FILE: parameters by name from another model's checkpoint */
	const char *save, *load, *data_dir, *log, *input, *max_memory_arg;
	const char *grad_norms;    /* --log-grad-norms FILE, or NULL */
	const char *output;        /* predict --output: class, probs, logits; NULL: the default */
	const char *prompt;        /* sample --prompt, or NULL */
	int64_t sample_length, top_k;   /* sample --length, --top-k (0: every character) */
	double temperature;        /* sample --temperature */
	const char *probe, *at, *png;   /* show --probe, --at, --png */
	int64_t index;             /* show --index */
	int64_t chains, betas;     /* ais --chains, --betas */
	const char *ais_base;      /* ais --base: data or uniform */
	const char *picture;       /* filters, chain, reconstructions, scatter: the PNG file to write */
	int64_t count;             /* scatter --count: points (0: the default) */
	int64_t trace_step;        /* trace --step, 0 when not given */
	int64_t trace_batch;       /* trace --batch-index, -1 when not given */
	int64_t trace_values;      /* trace --values */
	int trace_digits;          /* trace --digits */
	const char *stage;         /* train --stage NAME: that stage alone (stages.c) */
	int has_epochs, has_batch; /* given on the command line, not the descriptor's */
} RtOptions;

typedef struct RtStages RtStages;   /* stages.c */

typedef struct RtGradLog RtGradLog;   /* gradnorms.c */

typedef struct RtTrainer {
	const RtModel *model;
	const RtDesc *d;
	RtOptions opt;
	const RtIo *x, *y, *out;
	char *state, *scratch;
	void *io[NNRT_MAX_IO];
	int64_t max_batch;
	int64_t epoch, step;        /* epochs done, steps done (global) */
	int64_t first_step;         /* steps done when this run started (a loaded checkpoint's) */
	int64_t position;           /* steps done in the current epoch (resume mid-epoch) */
	double epoch_loss;          /* sum of loss * samples over those steps */
	RtRng rng;
	int64_t *perm;
	FILE *log;
	RtGradLog *grad_log;        /* --log-grad-norms, or NULL */
	RtAugment *augment;         /* the training source's, or NULL */
	const RtVocab *vocab;       /* a text model's: from the checkpoint or the first text source */
	const char *vocab_from;     /* where it came from, for messages */
	RtStages *stages;           /* a trainer of stages: its checkpoints hold all of them; else NULL */
	int stage;                  /* the stage this trainer runs, an index into them */
} RtTrainer;

/* stages.c: a program's training stages (nnc's lower_stage.c, docs/design.md) */
RtStages *rt_stages_new(const nnrt_stage *table, int n, const RtOptions *opt);
int rt_train_stages(RtStages *s, const RtOptions *opt);
void rt_stages_save(RtTrainer *t, const char *path, RtMeta *meta);   /* every stage's parameters */
void rt_stages_load(RtTrainer *t, const char *path);                /* eval, predict, ...: their own */
const char *rt_stages_layout(const RtStages *s);                    /* "rbm1 rbm2 finetune" */

/* train.c */
void rt_trainer_init(RtTrainer *t, const RtModel *m, const RtDesc *d, const RtOptions *opt);
void rt_init_params(RtTrainer *t);
void rt_init_tensor(const RtTensor *p, char *state, int64_t seed);   /* one param or buffer */
void rt_resume_meta(RtTrainer *t, const RtMeta *m, const char *path);  /* step, epoch, seed of a --load */
RtDataSpec rt_trainer_spec(const RtTrainer *t);
double rt_schedule_lr(const RtDesc *d, double base_lr, double t_epochs, int64_t total_epochs);
void rt_step_prepare(RtTrainer *t, nnrt_step *s, const RtData *data, const int64_t *idx,
                     int64_t start, int64_t count);
int rt_train(RtTrainer *t);
int rt_eval(RtTrainer *t);
int rt_predict(RtTrainer *t);
void rt_load_checkpoint(RtTrainer *t, const char *path);
void rt_take_vocab(RtTrainer *t, const RtMeta *m, const char *path, const char *what);
void rt_warm_start(RtTrainer *t, const char *path);   /* warm_start.c: --init FILE */
void rt_save_checkpoint(RtTrainer *t, const char *path);
/* evaluate: over a data set, the means of the loss, of correct classes, of
 * a one-value output and (when a report asks) an RBM's reconstruction
 * error; NaN where not meaningful */
typedef struct RtScores { double loss, accuracy, output, reconstruction; } RtScores;
void rt_evaluate(RtTrainer *t, const RtData *data, RtScores *s);
/* The training loop's choices, which trace (trace.c) makes as it does: the
 * batches of an epoch; the start of epoch t->epoch (the carried state reset
 * at its first batch over ordered data, t->perm its order); batch i's
 * samples and learning rate; and a batch as training feeds it to nnm_grad
 * (shard.c: gathered, augmented, masks drawn, hyper-parameters set). */
RtData *rt_train_source(RtTrainer *t);   /* loaded as train loads it; exits 2 when there is none */
int64_t rt_epoch_batches(const RtTrainer *t, const RtData *data);
void rt_epoch_start(RtTrainer *t, const RtData *data);
int64_t rt_batch_count(const RtTrainer *t, const RtData *data, int64_t i);
double rt_step_lr(const RtTrainer *t, int64_t i, int64_t nb);
void rt_batch_prepare(RtTrainer *t, const RtData *data, int64_t first, int64_t count, double lr, nnrt_step *s);
/* training-mode steps of `batch` samples of data: exits unless the batch statistics exist */
void rt_check_min_batch(const RtTrainer *t, int64_t batch, const RtData *data);

/* rbm.c: a binary RBM (MODEL.W [V, H], MODEL.b [V], MODEL.c [H]) read from
 * the state as doubles; ais.c: its log partition function and pictures */
typedef struct RtRbm { int64_t V, H; double *W, *b, *c; } RtRbm;
int rt_rbm_present(const RtDesc *d);
void rt_rbm_read(const RtTrainer *t, const char *what, RtRbm *r);   /* exits 2 when there is none */
void rt_rbm_free(RtRbm *r);
void rt_rbm_hidden_input(const RtRbm *r, const double *v, int64_t n, double beta, double *out);
void rt_rbm_visible_probs(const RtRbm *r, const double *h, int64_t n, double beta, double *out);
void rt_rbm_sigmoid(double *x, int64_t n);
double rt_softplus(double x);
void rt_rbm_batch(const RtData *data, int64_t start, int64_t count, double *out);
double rt_rbm_reconstruction(const RtTrainer *t, const RtData *data);
int rt_ais(RtTrainer *t);        /* the commands ais, partition, filters, chain */
int rt_partition(RtTrainer *t);
int rt_filters(RtTrainer *t);
int rt_chain(RtTrainer *t);

/* sample.c: `sample`, text drawn from a language model's checkpoint */
int rt_sample(RtTrainer *t);

/* decode.c: `decode`, greedy decoding by an encoder-decoder's checkpoint */
int rt_decode(RtTrainer *t);

/* the step's hyper-parameters: the learning rate, and t->step when training */
void rt_set_hyper(const RtTrainer *t, nnrt_step *s, double lr, int training);
int rt_show(RtTrainer *t);            /* show.c */
const RtIo *rt_find_probe(const RtDesc *d, const char *want);   /* --probe: number, name or part; exits 2 */

/* tiles.c: grey square images in a grid, drawn by gnuplot; pictures.c */
typedef struct RtCanvas { int64_t side, rows, cols, w, h; double *px; } RtCanvas;
int64_t rt_image_side(int64_t values, const char *what, const char *of);   /* exits 2 unless square */
RtCanvas rt_canvas(int64_t side, int64_t rows, int64_t cols);
/* tile (row, col) from img[i * stride], mapped to [0, 1] by (x - lo) / (hi - lo) */
void rt_canvas_tile(RtCanvas *c, int64_t row, int64_t col, const double *img, int64_t stride, double lo, double hi);
void rt_canvas_png(const RtCanvas *c, const char *png, const char *title);
const char *rt_gnuplot_quoted(const char *s);   /* for gnuplot's single quotes */
FILE *rt_temporary(char *name);                 /* mkstemp + fdopen, or exit 3 */
/* runs gnuplot on script, which writes part; renames part to png or exits 3 */
void rt_gnuplot(const char *script, const char *part, const char *png);
int rt_reconstructions(RtTrainer *t);
int rt_scatter(RtTrainer *t);
int rt_trace(RtTrainer *t);           /* trace.c */

/* shard.c: a batch's gradients as the fold of its shards' (the rule is there) */
void rt_shards_check(const RtTrainer *t);   /* before the first step: exits on what shards cannot do */
double rt_shards_grad(RtTrainer *t, const RtData *data, int64_t first, int64_t count, double lr, nnrt_step *s);
int rt_stop_agreed(void);                   /* the signal to stop on: under mpirun the ranks' agreement */

/* mpi.c: the ranks of mpirun; one rank of one when not launched by it */
void rt_mpi_start(int *argc, char ***argv);  /* exits 2 when launched as a rank without MPI built in */
void rt_mpi_end(void);                       /* after a run that ended well */
int rt_rank(void);
int rt_ranks(void);
const char *rt_mpi_note(void);               /* built in or not, for `info` */
const char *rt_mpi_who(void);                /* "rank R: " for messages under mpirun, else "" */
void rt_mpi_allgather(const double *mine, int n, double *all);
void rt_mpi_to_owners(const char *vec, const int64_t *lo, char *pieces);
void rt_mpi_from_owners(char *vec, const int64_t *lo);

/* guard.c: non-finite values after a step (exit 5); the memory budget (exit 4) */
void rt_check_numerics(const RtTrainer *t, double loss, int64_t batch);
int64_t rt_planned_bytes(const RtDesc *d, int64_t batch, int64_t *scratch, int64_t *io);
void rt_check_memory(const RtDesc *d, int64_t batch, int64_t budget, const char *as_given);

/* gradcheck.c */
int rt_gradcheck(RtTrainer *t);
const RtTensor *rt_grad_of(const RtDesc *d, int param);   /* param's gradient tensor, or NULL */

/* gradnorms.c: --log-grad-norms FILE, one CSV row per parameter per step */
RtGradLog *rt_gradlog_open(const char *path, const RtDesc *d);   /* exits 3 if it cannot write */
void rt_gradlog_step(RtGradLog *g, const RtTrainer *t);          /* between grad and update; g may be NULL */
void rt_gradlog_close(RtGradLog *g);                              /* exits 3 on a write error */

/* progress.c */
typedef struct RtProgress {
	int tty, quiet;
	double t0, last_draw;
	int64_t epoch, epochs;
} RtProgress;
double rt_now(void);
void rt_progress_begin(RtProgress *p, int quiet, int64_t epoch, int64_t epochs);
void rt_progress_update(RtProgress *p, int64_t done, int64_t total, double loss);
void rt_progress_end(RtProgress *p);
void rt_progress_break(void);   /* a message follows: end a drawn bar's line */

/* metrics.c */
FILE *rt_metrics_open(const char *path, const RtTrainer *t);
void rt_metrics_row(FILE *f, const RtTrainer *t, double lr, double train_loss,
                    const double *report, double seconds);

/* window.c: window_rows of a one-channel image as [KH*KW, m1-m0] (conv.c) */
void rt_window_cols_f32(const float *x, float *y, int64_t m0, int64_t m1, int64_t h, int64_t w,
                        int64_t oh, int64_t ow, const nnrt_window *win, float fill);
void rt_window_cols_f64(const double *x, double *y, int64_t m0, int64_t m1, int64_t h, int64_t w,
                        int64_t oh, int64_t ow, const nnrt_window *win, double fill);

/* cli.c */
int rt_main(int argc, char **argv, const RtModel *model);

#endif
