/* lower_vision.c — convolution and pooling builtins, in the ops of ops.def:
 * a sliding window (im2col) followed by a GEMM, a maximum or a sum.
 *
 * Images are NHWC, [B, H, W, C]: a window of patches [B,OH,OW,KH,KW,C]
 * keeps each patch's KH*KW*C values contiguous, so convolution is one
 * GEMM with the weights [KH, KW, C, O] read as a [KH*KW*C, O] matrix, and
 * its output [B, OH, OW, O] is again NHWC with no transpose (runtime/
 * window.c).  The gradients come from the ops' VJPs: window's is unwindow
 * (col2im), a max pool's the max's mask.  Pooling windows that tile the
 * image need no window: they are a reshape. */
#include <math.h>
#include "lower.h"

/* A size given as one int (both axes) or a list [rows, cols]. */
static void pair_arg(const Value *v, const char *fn, const char *what, int dflt, int min,
                     int32_t *rows, int32_t *cols)
{
	int32_t *out[2] = { rows, cols };
	if (v->kind == V_NONE) {
		*rows = *cols = dflt;
		return;
	}
	if (v->kind == V_LIST && v->nitem != 2)
		error_at(v->loc, "%s of '%s' is one integer or a list [rows, columns]", what, fn);
	for (int i = 0; i < 2; i++) {
		const Value *e = v->kind == V_LIST ? &v->item[i] : v;
		int64_t n = need_int(e, what);
		if (n < min || n > 4096)
			error_at(e->loc, "%s of '%s' must be in [%d, 4096], not %lld", what, fn, min, (long long)n);
		*out[i] = (int32_t)n;
	}
}

/* Shape errors point at the call: a tensor's own location is where it was
 * made (a parameter's declaration, a data field in the train block). */
static Node *image_arg(Ctx *c, const Value *v, const char *fn, Loc call)
{
	Node *x = need_tensor(c, v, xprintf("the image of '%s'", fn));
	if (x->dt == DT_I32 || x->shape.rank != 4 || x->shape.d[0] != DIM_BATCH)
		error_at(call, "'%s' needs images of shape [B, H, W, C] (NHWC, float), not %s; "
		         "reshape(x, [B, 28, 28, 1]) makes one from flat pixels", fn, type_str(x->dt, x->shape));
	return x;
}

/* The window of x, or an error naming the sizes when it does not fit. */
static Node *window_of(Ctx *c, Node *x, nnrt_window win, double fill, const char *fn, Loc loc)
{
	int64_t oh = window_extent(x->shape.d[1], win.kh, win.sh, win.ph, win.dh);
	int64_t ow = window_extent(x->shape.d[2], win.kw, win.sw, win.pw, win.dw);
	if (oh < 1 || ow < 1)
		error_at(loc, "'%s': a %dx%d window (dilation %dx%d, padding %dx%d) does not fit a %lldx%lld image",
		         fn, win.kh, win.kw, win.dh, win.dw, win.ph, win.pw,
		         (long long)x->shape.d[1], (long long)x->shape.d[2]);
	int64_t per = 0;
	if (__builtin_mul_overflow(oh * ow, (int64_t)win.kh * win.kw * x->shape.d[3], &per) ||
	    per > MAX_ELEMENTS)
		error_at(loc, "'%s': the patches of one image would hold more than 2^31 values", fn);
	return ir_window(c->fn, x, win, fill, loc);
}

/* One convolution: patches of x times the kernel read as a matrix. */
static Node *conv_gemm(Ctx *c, Node *x, Node *w, nnrt_window win, Loc loc)
{
	Node *p = window_of(c, x, win, 0, "conv2d", loc);
	Shape rows = shape_of(4, DIM_BATCH, p->shape.d[1], p->shape.d[2], p->shape.d[3] * p->shape.d[4] * p->shape.d[5]);
	Shape kmat = shape_of(2, w->shape.d[0] * w->shape.d[1] * w->shape.d[2], w->shape.d[3]);
	return ir_matmul(c->fn, ir_reshape(c->fn, p, rows, loc), ir_reshape(c->fn, w, kmat, loc), 0, 0, loc);
}

/* conv2d(x, W, stride, padding, dilation, groups): x [B,H,W,C] and
 * W [KH,KW,C/groups,O] give [B,OH,OW,O].  With groups, channel group g of
 * the image meets output group g of the kernel only (AlexNet's two
 * towers): one convolution per group on slices, joined along channels. */
Value lower_conv2d(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *x = image_arg(c, &arg[0], "conv2d", loc);
	Node *w = need_tensor(c, &arg[1], "the weights of 'conv2d'");
	if (w->shape.rank != 4 || shape_has_batch(w->shape) || w->dt != x->dt)
		error_at(loc, "conv2d needs weights of shape [KH, KW, C, O] and the image's dtype, not %s",
		         type_str(w->dt, w->shape));
	nnrt_window win = { .kh = (int32_t)w->shape.d[0], .kw = (int32_t)w->shape.d[1] };
	pair_arg(&arg[2], "conv2d", "stride", 1, 1, &win.sh, &win.sw);
	pair_arg(&arg[3], "conv2d", "padding", 0, 0, &win.ph, &win.pw);
	pair_arg(&arg[4], "conv2d", "dilation", 1, 1, &win.dh, &win.dw);
	int64_t groups = arg[5].kind == V_NONE ? 1 : need_int(&arg[5], "groups");
	int64_t cin = x->shape.d[3], cout = w->shape.d[3];
	if (groups < 1 || cin % groups || cout % groups)
		error_at(arg[5].kind == V_NONE ? loc : arg[5].loc, "conv2d: groups %lld must divide the %lld input and %lld output channels",
		         (long long)groups, (long long)cin, (long long)cout);
	if (w->shape.d[2] * groups != cin)
		error_at(loc, "conv2d: the weights %s expect %lld input channels%s, the image %s has %lld",
		         type_str(w->dt, w->shape), (long long)(w->shape.d[2] * groups),
		         groups > 1 ? xprintf(" (%lld groups)", (long long)groups) : "", type_str(x->dt, x->shape),
		         (long long)cin);
	if (groups == 1)
		return tensor_value(conv_gemm(c, x, w, win, loc), loc);
	int64_t cg = cin / groups, og = cout / groups;
	Node **y = xalloc(sizeof *y * (size_t)groups);
	for (int64_t g = 0; g < groups; g++)
		y[g] = conv_gemm(c, ir_slice(c->fn, x, 3, g * cg, cg, loc), ir_slice(c->fn, w, 3, g * og, og, loc), win, loc);
	return tensor_value(concat_nodes(c, y, (int)groups, 3, loc), loc);
}

/* max_pool2d / avg_pool2d(x, size, stride = size, padding = 0): the
 * maximum or the mean of each window, per channel.  A max pool pads with
 * -inf, so padding never wins; an average pool pads with zeros and
 * divides by the whole window (PyTorch's count_include_pad). */
static Value pool(Ctx *c, const Expr *call, Value *arg, int is_max)
{
	const char *fn = is_max ? "max_pool2d" : "avg_pool2d";
	Loc loc = call->loc;
	Node *x = image_arg(c, &arg[0], fn, loc);
	nnrt_window win;
	pair_arg(&arg[1], fn, "size", 2, 1, &win.kh, &win.kw);
	pair_arg(&arg[2], fn, "stride", 1, 1, &win.sh, &win.sw);
	if (arg[2].kind == V_NONE)   /* windows side by side */
		win.sh = win.kh, win.sw = win.kw;
	pair_arg(&arg[3], fn, "padding", 0, 0, &win.ph, &win.pw);
	win.dh = win.dw = 1;
	if (2 * win.ph > win.kh || 2 * win.pw > win.kw)
		error_at(arg[3].loc, "'%s': padding must be at most half the window (%dx%d)", fn, win.kh, win.kw);
	int64_t h = x->shape.d[1], w = x->shape.d[2], ch = x->shape.d[3];
	Node *r;
	Shape out;
	if (win.sh == win.kh && win.sw == win.kw && !win.ph && !win.pw && h % win.kh == 0 && w % win.kw == 0) {
		/* Windows that tile the image are a reshape, [B, OH, KH, OW, KW, C]:
		 * no window copied, and the gradient needs no unwindow. */
		int64_t oh = h / win.kh, ow = w / win.kw;
		Shape tiles = shape_of(6, DIM_BATCH, oh, (int64_t)win.kh, ow, (int64_t)win.kw, ch);
		r = ir_reduce(c->fn, is_max ? OP_amax : OP_sum, ir_reshape(c->fn, x, tiles, loc), 4u | 16u, loc);
		out = shape_of(4, DIM_BATCH, oh, ow, ch);
	} else {
		Node *p = window_of(c, x, win, is_max ? -INFINITY : 0, fn, loc);
		r = ir_reduce(c->fn, is_max ? OP_amax : OP_sum, p, 8u | 16u, loc);
		out = shape_of(4, DIM_BATCH, p->shape.d[1], p->shape.d[2], ch);
	}
	r = ir_reshape(c->fn, r, out, loc);
	if (!is_max) {
		Node *k = ir_const(c->fn, x->dt, 1.0 / (win.kh * win.kw), loc);
		r = ir_binary(c->fn, OP_mul, r, ir_broadcast(c->fn, k, out, loc), loc);
	}
	return tensor_value(r, loc);
}

Value lower_max_pool(Ctx *c, const Expr *call, Value *arg) { return pool(c, call, arg, 1); }
Value lower_avg_pool(Ctx *c, const Expr *call, Value *arg) { return pool(c, call, arg, 0); }

/* global_avg_pool(x): [B,H,W,C] -> [B,C], the mean of each channel. */
Value lower_global_avg_pool(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *x = image_arg(c, &arg[0], "global_avg_pool", loc);
	Node *s = ir_reduce(c->fn, OP_sum, x, 2u | 4u, loc);
	Shape out = shape_of(2, DIM_BATCH, x->shape.d[3]);
	s = ir_reshape(c->fn, s, out, loc);
	Node *k = ir_const(c->fn, x->dt, 1.0 / (double)(x->shape.d[1] * x->shape.d[2]), loc);
	return tensor_value(ir_binary(c->fn, OP_mul, s, ir_broadcast(c->fn, k, out, loc), loc), loc);
}

/* flatten(x): [B, ...] -> [B, n], the per-sample values in row-major order. */
Value lower_flatten(Ctx *c, const Expr *call, Value *arg)
{
	Node *x = need_tensor(c, &arg[0], "the argument of 'flatten'");
	if (x->shape.rank < 1 || x->shape.d[0] != DIM_BATCH)
		error_at(call->loc, "flatten needs a tensor whose first dimension is the batch B, not %s",
		         type_str(x->dt, x->shape));
	return tensor_value(ir_reshape(c->fn, x, shape_of(2, DIM_BATCH, shape_per_sample(x->shape)), call->loc),
	                    call->loc);
}

/* local_response_norm(x, size = 5, alpha = 1e-4, beta = 0.75, k = 2)
 * (Krizhevsky et al. 2012, as PyTorch defines it):
 *   y = x / (k + alpha/size * sum of x^2 over `size` neighbouring channels)^beta.
 * The sum over channels is one boxsum along the last axis (zero beyond the
 * first and last channel), its own adjoint. */
Value lower_local_response_norm(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *x = image_arg(c, &arg[0], "local_response_norm", loc);
	int64_t size = arg[1].kind == V_NONE ? 5 : need_int(&arg[1], "size");
	double alpha = arg[2].kind == V_NONE ? 1e-4 : need_number(&arg[2], "alpha");
	double beta = arg[3].kind == V_NONE ? 0.75 : need_number(&arg[3], "beta");
	double k = arg[4].kind == V_NONE ? 2 : need_number(&arg[4], "k");
	if (size < 1 || size > 255 || size % 2 == 0)
		error_at(arg[1].loc, "local_response_norm's size must be odd, in [1, 255], not %lld", (long long)size);
	if (!(k > 0) || !(alpha >= 0) || !(beta >= 0))
		error_at(call->loc, "local_response_norm needs k > 0, alpha >= 0 and beta >= 0");
	Shape s = x->shape;
	Node *sum = ir_boxsum(c->fn, ir_binary(c->fn, OP_mul, x, x, loc), size, loc);
	Node *scale = ir_broadcast(c->fn, ir_const(c->fn, x->dt, alpha / (double)size, loc), s, loc);
	Node *base = ir_binary(c->fn, OP_add, ir_broadcast(c->fn, ir_const(c->fn, x->dt, k, loc), s, loc),
	                       ir_binary(c->fn, OP_mul, sum, scale, loc), loc);
	Node *den = ir_binary(c->fn, OP_pow, base, ir_broadcast(c->fn, ir_const(c->fn, x->dt, beta, loc), s, loc), loc);
	return tensor_value(ir_binary(c->fn, OP_div, x, den, loc), loc);
}
