/* metrics.c — the CSV metrics log (--log FILE): `#` comment lines that
 * record what produced the numbers, then one row per epoch. */
#include <string.h>
#include "nnrt_internal.h"

FILE *rt_metrics_open(const char *path, const RtTrainer *t)
{
	const RtDesc *d = t->d;
	FILE *f = fopen(path, "w");
	if (!f)
		rt_fatal(RT_EXIT_IO, "cannot write the metrics log %s", path);
	fprintf(f, "# model %s\n", d->model);
	fprintf(f, "# source %s\n", d->source ? d->source : "(unknown)");
	fprintf(f, "# signature %s\n", d->signature);
	fprintf(f, "# train_source %s\n", d->train_source ? d->train_source : "(none)");
	fprintf(f, "# optimizer %s lr=%g momentum=%g nesterov=%d weight_decay=%g beta1=%g beta2=%g eps=%g%s\n",
	        nnrt_optimizer_word[d->optimizer], t->opt.lr, d->momentum, d->nesterov, d->weight_decay, d->beta1, d->beta2, d->eps,
	        d->clip != 0 ? rt_printf(" clip=%g", d->clip) : "");
	fprintf(f, "# schedule %s warmup=%g step_size=%g gamma=%g min_lr=%g\n",
	        nnrt_schedule_word[d->schedule], d->warmup, d->step_size, d->gamma, d->min_lr);
	fprintf(f, "# batch %lld epochs %lld seed %lld threads %lld start_epoch %lld\n",
	        (long long)t->opt.batch, (long long)t->opt.epochs, (long long)t->opt.seed,
	        (long long)t->opt.threads, (long long)t->epoch);
	if (t->augment)
		fprintf(f, "# augment views=%lld resize=%g crop=%lld flip=%g erase=%g noise=%g\n",
		        (long long)t->augment->views, t->augment->resize, (long long)t->augment->crop, t->augment->flip,
		        t->augment->erase, t->augment->noise);
	fprintf(f, "epoch,step,lr,train_loss");
	for (int i = 0; i < d->nreport; i++)
		fprintf(f, ",%s.%s", d->report_source[i], nnrt_metric_word[d->report_metric[i]]);
	fprintf(f, ",seconds\n");
	return f;
}

void rt_metrics_row(FILE *f, const RtTrainer *t, double lr, double train_loss,
                    const double *report, double seconds)
{
	if (!f)
		return;
	fprintf(f, "%lld,%lld,%.9g,%.9g", (long long)t->epoch, (long long)t->step, lr, train_loss);
	for (int i = 0; i < t->d->nreport; i++)
		fprintf(f, ",%.9g", report[i]);
	fprintf(f, ",%.3f\n", seconds);
	fflush(f);
}
