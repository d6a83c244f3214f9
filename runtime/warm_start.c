/* warm_start.c — `train --init FILE`: a fresh training run whose
 * parameters start, where they can, from another model's checkpoint.
 *
 * The match is by name: parameter names are call paths (docs/language.md),
 * so a fine-tuning model that calls the same `encoder` fn as the model
 * that was pretrained names the encoder's tensors the same way, and those
 * are read; the rest (a new head) keep their initializer.  Only
 * parameters and running statistics are read: optimizer state, the step,
 * the epoch and the seed of FILE are not (a fresh run, unlike --load),
 * so the run is the one a plain `train` would make from these values. */
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

typedef struct Tally { int n, loaded; int64_t values, values_loaded; } Tally;

static Tally tally(const RtDesc *d, const char *loaded)
{
	Tally c = {0};
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *p = &d->tensor[i];
		if (p->role != RT_PARAM && p->role != RT_BUFFER)
			continue;
		c.n++;
		c.values += p->count;
		c.loaded += loaded[i];
		c.values_loaded += loaded[i] ? p->count : 0;
	}
	return c;
}

/* The names that kept their initializer, comma-separated, or "none". */
static char *kept_names(const RtDesc *d, const char *loaded)
{
	size_t len = 1;
	for (int i = 0; i < d->ntensor; i++)
		len += strlen(d->tensor[i].name) + 2;
	char *s = rt_alloc(len + 8), *o = s;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *p = &d->tensor[i];
		if ((p->role == RT_PARAM || p->role == RT_BUFFER) && !loaded[i])
			o += sprintf(o, "%s%s", o == s ? "" : ", ", p->name);
	}
	if (o == s)
		strcpy(s, "none");
	return s;
}

void rt_warm_start(RtTrainer *t, const char *path)
{
	const RtDesc *d = t->d;
	char err[768];
	char *loaded = rt_alloc((size_t)d->ntensor + 1);
	RtMeta m = {0};
	if (rt_checkpoint_init(path, d, t->state, &m, loaded, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	Tally c = tally(d, loaded);
	const char *model = rt_meta_get(&m, "model");
	if (c.loaded == 0)
		rt_fatal(RT_EXIT_IO, "--init %s: none of the %d parameters of model '%s' is in it by name (a "
		         "checkpoint of model '%s'): name the shared layers alike in both models, e.g. both "
		         "calling the same fn (docs/attention.md)", path, c.n, d->model, model ? model : "?");
	rt_take_vocab(t, &m, path, "the --init checkpoint");
	if (!t->opt.quiet)
		printf("--init %s (model '%s'): %d of %d parameters (%lld of %lld values) loaded by name; kept "
		       "their initializer: %s\n", path, model ? model : "?", c.loaded, c.n, (long long)c.values_loaded,
		       (long long)c.values, kept_names(d, loaded));
	free(loaded);
}
