/* augment.c — data augmentation of training batches: random resized
 * crop, random crop with zero padding, horizontal flip, random erasing,
 * additive Gaussian noise, chosen by the training source's resize=, crop=,
 * flip=, erase= and noise= (nn(5), Data sources); each view of a sample
 * (views=) is augmented on its own.
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
 * Per image, in this order: resize (cut a rectangle of a fraction of
 * the area drawn from [resize, 1] and an aspect ratio from [3/4, 4/3],
 * log-uniform, and scale it back to the whole image, bilinear), crop
 * (pad `crop` zeros on each side, cut the original size at offsets dy,
 * dx drawn uniformly from [0, 2 crop]), flip (mirror the columns with
 * probability `flip`), erase (with probability `erase`, set a rectangle
 * of 2% to 33% of the area, aspect ratio in [0.3, 3.3], to zero), noise
 * (add N(0, noise^2) to every value, after the source's scale).  A draw
 * is only made for what is switched on, so the draws of a source without
 * resize and erase are what they were before these existed.  Images are
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
	RtAugment a = {.resize = arg(s, "resize"), .crop = (int64_t)arg(s, "crop"), .flip = arg(s, "flip"),
	               .erase = arg(s, "erase"), .noise = arg(s, "noise"), .height = d->height, .width = d->width,
	               .channels = d->channels, .per = d->image_per, .views = d->views};
	if (a.resize == 0 && a.crop == 0 && a.flip == 0 && a.erase == 0 && a.noise == 0)
		return NULL;
	const char *needs = a.resize ? "resize" : a.crop ? "crop" : a.flip ? "flip" : a.erase ? "erase" : NULL;
	if (needs && !d->height)
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s): '%s' needs images, but its samples are %lld values "
		         "with no rows and columns; give the geometry with shape: [HEIGHT, WIDTH, CHANNELS]",
		         s->name, d->origin, needs, (long long)d->image_per);
	if (a.crop && (a.crop >= a.height || a.crop >= a.width))
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s): crop=%lld pads more than the %lldx%lld images hold; "
		         "use at most %lld", s->name, d->origin, (long long)a.crop, (long long)a.height,
		         (long long)a.width, (long long)((a.height < a.width ? a.height : a.width) - 1));
	RtAugment *out = rt_alloc(sizeof *out);
	*out = a;
	out->tmp = rt_alloc((size_t)(d->image_per * rt_dtype_size(d->x_dt)));
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

/* A rectangle of a fraction of the image's area drawn from [lo, hi] and
 * an aspect ratio (width / height) from [rlo, rhi], log-uniform, placed
 * uniformly; ten tries, as torchvision's RandomResizedCrop and
 * RandomErasing make, then none (on = 0). */
static RtBox draw_box(RtRng *g, int64_t h, int64_t w, double lo, double hi, double rlo, double rhi)
{
	for (int k = 0; k < 10; k++) {
		double area = (double)(h * w) * (lo + (hi - lo) * rt_rng_uniform(g));
		double ratio = exp(log(rlo) + (log(rhi) - log(rlo)) * rt_rng_uniform(g));
		int64_t bw = (int64_t)llround(sqrt(area * ratio)), bh = (int64_t)llround(sqrt(area / ratio));
		if (bw < 1 || bh < 1 || bw > w || bh > h)
			continue;
		int64_t y = (int64_t)rt_rng_below(g, (uint64_t)(h - bh + 1));
		int64_t x = (int64_t)rt_rng_below(g, (uint64_t)(w - bw + 1));
		return (RtBox){ .y = y, .x = x, .h = bh, .w = bw, .on = 1 };
	}
	return (RtBox){ 0 };
}

RtAugmentDraw rt_augment_draw(const RtAugment *a, uint64_t seed, int64_t epoch, int64_t position, int64_t view)
{
	RtAugmentDraw w = {.dy = a->crop, .dx = a->crop};   /* the identity crop */
	uint64_t stream = mix(mix(0x6175676d656e7400ULL ^ (uint64_t)epoch) ^ (uint64_t)position);   /* "augment" */
	if (view > 0)   /* view 0 keeps the stream a sample had before views existed */
		stream = mix(stream ^ mix(0x7669657700ULL + (uint64_t)view));   /* "view" */
	rt_rng_seed(&w.rng, seed, stream);
	if (a->resize > 0)
		w.area = draw_box(&w.rng, a->height, a->width, a->resize, 1, 3.0 / 4, 4.0 / 3);
	if (a->crop > 0) {
		w.dy = (int64_t)rt_rng_below(&w.rng, (uint64_t)(2 * a->crop + 1));
		w.dx = (int64_t)rt_rng_below(&w.rng, (uint64_t)(2 * a->crop + 1));
	}
	if (a->flip > 0)
		w.mirror = rt_rng_uniform(&w.rng) < a->flip;
	if (a->erase > 0 && rt_rng_uniform(&w.rng) < a->erase)
		w.erased = draw_box(&w.rng, a->height, a->width, 0.02, 1.0 / 3, 0.3, 1 / 0.3);
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

static double get(RtDType dt, const void *x, int64_t i)
{
	return dt == RT_F32 ? ((const float *)x)[i] : ((const double *)x)[i];
}

static void set(RtDType dt, void *x, int64_t i, double v)
{
	if (dt == RT_F32)
		((float *)x)[i] = (float)v;
	else
		((double *)x)[i] = v;
}

/* One coordinate of the bilinear map from the whole image's n pixels to
 * the box's m (pixel centres, PyTorch's align_corners=False): the two
 * source pixels and the weight of the second. */
static void source_of(int64_t o, int64_t n, int64_t m, int64_t *i0, int64_t *i1, double *f)
{
	double s = fmin(fmax(((double)o + 0.5) * (double)m / (double)n - 0.5, 0), (double)(m - 1));
	*i0 = (int64_t)s;
	*i1 = *i0 + 1 < m ? *i0 + 1 : *i0;
	*f = s - (double)*i0;
}

/* The box b of the image scaled to the whole image, bilinear, in place. */
static void resize_box(const RtAugment *a, RtDType dt, void *x, RtBox b)
{
	int64_t w = a->width, c = a->channels;
	memcpy(a->tmp, x, (size_t)(a->per * rt_dtype_size(dt)));
	for (int64_t y = 0; y < a->height; y++) {
		int64_t y0, y1, x0, x1;
		double fy, fx;
		source_of(y, a->height, b.h, &y0, &y1, &fy);
		const int64_t r0 = (b.y + y0) * w + b.x, r1 = (b.y + y1) * w + b.x;
		for (int64_t o = 0; o < w; o++) {
			source_of(o, w, b.w, &x0, &x1, &fx);
			for (int64_t k = 0; k < c; k++) {
				double top = (1 - fx) * get(dt, a->tmp, (r0 + x0) * c + k) + fx * get(dt, a->tmp, (r0 + x1) * c + k);
				double bot = (1 - fx) * get(dt, a->tmp, (r1 + x0) * c + k) + fx * get(dt, a->tmp, (r1 + x1) * c + k);
				set(dt, x, (y * w + o) * c + k, (1 - fy) * top + fy * bot);
			}
		}
	}
}

static void erase_box(const RtAugment *a, RtDType dt, void *x, RtBox b)
{
	size_t px = (size_t)(a->channels * rt_dtype_size(dt));
	for (int64_t y = b.y; y < b.y + b.h; y++)
		memset((char *)x + (size_t)(y * a->width + b.x) * px, 0, (size_t)b.w * px);   /* 0.0 is all zero bits */
}

void rt_augment_image(const RtAugment *a, RtDType dt, void *x, uint64_t seed, int64_t epoch, int64_t position,
                      int64_t view)
{
	RtAugmentDraw w = rt_augment_draw(a, seed, epoch, position, view);
	if (w.area.on)
		resize_box(a, dt, x, w.area);
	if (a->height && (w.dy != a->crop || w.dx != a->crop || w.mirror))
		rt_augment_shift(a, dt, x, w.dy, w.dx, w.mirror);
	if (w.erased.on)
		erase_box(a, dt, x, w.erased);
	if (a->noise > 0)
		add_noise(&w.rng, dt, x, a->per, a->noise);
}

void rt_augment_batch(const RtAugment *a, RtDType dt, void *x, int64_t count, uint64_t seed, int64_t epoch,
                      int64_t first)
{
	size_t bytes = (size_t)(a->per * rt_dtype_size(dt));
	for (int64_t i = 0; i < count; i++)
		for (int64_t v = 0; v < a->views; v++)
			rt_augment_image(a, dt, (char *)x + (size_t)(i * a->views + v) * bytes, seed, epoch, first + i, v);
}
