/* augment.c — data augmentation of training batches: random crop with
 * zero padding, horizontal flip, additive Gaussian noise, chosen by the
 * training source's crop=, flip= and noise= (nn(5), Data sources).
 *
 * Only the training loop calls it (train.c, train_epoch), on the batch
 * already gathered into the input io, so eval, predict, reports and
 * gradcheck see the data as loaded.
 *
 * Each sample's draws come from its own stream, named by (seed, epoch,
 * position in the epoch's order) — not from a stream running through
 * the epoch — so a run resumed mid-epoch augments the remaining samples
 * exactly as a straight run does, whatever the batch size.
 *
 * Per sample, in this order: crop (pad `crop` zeros on each side, cut
 * the original size at offsets dy, dx drawn uniformly from [0, 2 crop]),
 * flip (mirror the columns with probability `flip`), noise (add
 * N(0, noise^2) to every value, after the source's scale).  Images are
 * NHWC, row-major: value (y, x, c) of a sample is at (y W + x) C + c. */
#include <math.h>
#include <string.h>
#include "nnrt_internal.h"

static double arg(const RtSource *s, const char *key)
{
	const RtKeyVal *kv = rt_source_arg(s, key);
	return kv ? kv->num : 0;
}

RtAugment *rt_augment_new(const RtSource *s, const RtData *d)
{
	RtAugment a = {.crop = (int64_t)arg(s, "crop"), .flip = arg(s, "flip"), .noise = arg(s, "noise"),
	               .height = d->height, .width = d->width, .channels = d->channels};
	if (a.crop == 0 && a.flip == 0 && a.noise == 0)
		return NULL;
	const char *needs = a.crop ? "crop" : a.flip ? "flip" : NULL;
	if (needs && !d->height)
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s): '%s' needs images, but its samples are %lld values "
		         "with no rows and columns; give the geometry with shape: [HEIGHT, WIDTH, CHANNELS]",
		         s->name, d->origin, needs, (long long)d->x_per);
	if (a.crop && (a.crop >= a.height || a.crop >= a.width))
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s): crop=%lld pads more than the %lldx%lld images hold; "
		         "use at most %lld", s->name, d->origin, (long long)a.crop, (long long)a.height,
		         (long long)a.width, (long long)((a.height < a.width ? a.height : a.width) - 1));
	RtAugment *out = rt_alloc(sizeof *out);
	*out = a;
	out->tmp = rt_alloc((size_t)(d->x_per * rt_dtype_size(d->x_dt)));
	return out;
}

/* splitmix64's finalizer: a bijection of 64 bits, so distinct (epoch,
 * position) pairs give distinct streams. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

RtAugmentDraw rt_augment_draw(const RtAugment *a, uint64_t seed, int64_t epoch, int64_t position)
{
	RtAugmentDraw w = {.dy = a->crop, .dx = a->crop};   /* the identity crop */
	uint64_t stream = mix(mix(0x6175676d656e7400ULL ^ (uint64_t)epoch) ^ (uint64_t)position);   /* "augment" */
	rt_rng_seed(&w.rng, seed, stream);
	if (a->crop > 0) {
		w.dy = (int64_t)rt_rng_below(&w.rng, (uint64_t)(2 * a->crop + 1));
		w.dx = (int64_t)rt_rng_below(&w.rng, (uint64_t)(2 * a->crop + 1));
	}
	if (a->flip > 0)
		w.mirror = rt_rng_uniform(&w.rng) < a->flip;
	return w;
}

/* Mirrors a row of w pixels of px bytes each, in place. */
static void reverse(char *row, int64_t w, size_t px)
{
	for (int64_t i = 0, j = w - 1; i < j; i++, j--)
		for (size_t b = 0; b < px; b++) {
			char t = row[(size_t)i * px + b];
			row[(size_t)i * px + b] = row[(size_t)j * px + b];
			row[(size_t)j * px + b] = t;
		}
}

/* out(y, x) = padded(y + dy, x' + dx), x' = W-1-x when mirrored, where
 * padded is the image with `crop` zeros around it: crop, then flip.  Each
 * row is one run of columns, [lo, hi) from [lo + dx - crop, hi + dx - crop),
 * between zeros; crop < W keeps the run non-empty. */
void rt_augment_shift(const RtAugment *a, RtDType dt, void *x, int64_t dy, int64_t dx, int mirror)
{
	int64_t h = a->height, w = a->width, p = a->crop;
	size_t px = (size_t)(a->channels * rt_dtype_size(dt)), row = (size_t)w * px;
	int64_t lo = p - dx > 0 ? p - dx : 0, hi = w + p - dx < w ? w + p - dx : w;
	memcpy(a->tmp, x, (size_t)h * row);
	for (int64_t y = 0; y < h; y++) {
		char *out = (char *)x + (size_t)y * row;
		int64_t sy = y + dy - p;
		if (sy < 0 || sy >= h) {
			memset(out, 0, row);   /* 0.0 is all zero bits in f32 and f64 */
			continue;
		}
		const char *in = (const char *)a->tmp + (size_t)sy * row;
		memset(out, 0, (size_t)lo * px);
		memcpy(out + (size_t)lo * px, in + (size_t)(lo + dx - p) * px, (size_t)(hi - lo) * px);
		memset(out + (size_t)hi * px, 0, (size_t)(w - hi) * px);
		if (mirror)
			reverse(out, w, px);
	}
}

/* Marsaglia's polar method: two normals from a point drawn uniformly in
 * the unit disc, whose coordinates are the two signed 32-bit halves of
 * one draw — one draw and one logarithm per pair (and 27% more for the
 * points outside the disc), which matters at one draw per input value. */
static void add_noise(RtRng *r, RtDType dt, void *x, int64_t n, double sd)
{
	for (int64_t i = 0; i < n; i += 2) {
		double u, v, s;
		do {
			uint64_t b = rt_rng_next(r);
			u = (double)(int32_t)(uint32_t)(b >> 32) * 0x1p-31;
			v = (double)(int32_t)(uint32_t)b * 0x1p-31;
			s = u * u + v * v;
		} while (s >= 1 || s == 0);
		double m = sd * sqrt(-2 * log(s) / s), z[2] = {u * m, v * m};
		for (int j = 0; j < 2 && i + j < n; j++) {
			if (dt == RT_F32)
				((float *)x)[i + j] = (float)(((float *)x)[i + j] + z[j]);
			else
				((double *)x)[i + j] += z[j];
		}
	}
}

void rt_augment_sample(const RtAugment *a, RtDType dt, void *x, int64_t per, uint64_t seed,
                       int64_t epoch, int64_t position)
{
	RtAugmentDraw w = rt_augment_draw(a, seed, epoch, position);
	if (a->height && (w.dy != a->crop || w.dx != a->crop || w.mirror))
		rt_augment_shift(a, dt, x, w.dy, w.dx, w.mirror);
	if (a->noise > 0)
		add_noise(&w.rng, dt, x, per, a->noise);
}

void rt_augment_batch(const RtAugment *a, RtDType dt, void *x, int64_t per, int64_t count,
                      uint64_t seed, int64_t epoch, int64_t first)
{
	size_t bytes = (size_t)(per * rt_dtype_size(dt));
	for (int64_t i = 0; i < count; i++)
		rt_augment_sample(a, dt, (char *)x + (size_t)i * bytes, per, seed, epoch, first + i);
}
