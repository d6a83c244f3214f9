/* ops.c — the op table of ops.def expanded: each op's properties, and the
 * scalar semantics of the elementwise ops, written once in the table and
 * evaluated here for constant folding and the reference interpreter. */
#include <math.h>
#include <string.h>
#include "ir.h"

const OpInfo op_info[OP__COUNT] = {
#define OP(name, nin, kind, attrs, flags) [OP_##name] = { #name, nin, kind, attrs, flags, NULL },
#define ELEM(name, nin, attrs, flags, builtin, scalar, llvm) \
	[OP_##name] = { #name, nin, K_ELEM, attrs, flags, builtin },
#include "ops.def"
#undef OP
#undef ELEM
};

/* An ELEM row's case returns its scalar column; an OP row has no scalar
 * value (reached only by a bug in nnc). */
double op_scalar(Op op, const double *v, double a)
{
	double x = v[0], y = op_info[op].nin > 1 ? v[1] : 0, z = op_info[op].nin > 2 ? v[2] : 0;
	(void)a, (void)y, (void)z;
	switch (op) {
#define OP(name, nin, kind, attrs, flags) case OP_##name: break;
#define ELEM(name, nin, attrs, flags, builtin, scalar, llvm) case OP_##name: return (scalar);
#include "ops.def"
#undef OP
#undef ELEM
	case OP__COUNT:
		break;
	}
	fatal(EXIT_INTERNAL, "internal error: op_scalar of %s, which is not elementwise",
	      (unsigned)op < OP__COUNT ? op_info[op].name : "an unknown op");
}

int op_by_name(const char *name)
{
	for (int i = 0; i < OP__COUNT; i++)
		if (!strcmp(op_info[i].name, name))
			return i;
	return -1;
}
