#!/bin/sh
# Plain functions (nnc(1) --of, --eval; nn(5) grad): a file without a train
# block, a derivative a student can check by hand, second derivatives by
# grad(grad(f)), and a Hessian-vector product against central differences
# of the gradient, all from the command line.
. "$(dirname "$0")/lib.sh"

cat >"$work/calc.nn" <<'NN'
fn f(w) { return w ** 2 + 3 * w }
fn df(w) { return grad(f)(w) }
fn d2f(w) { return grad(grad(f))(w) }
fn g(x: f64[3]) { return sum(tanh(x) * exp(x / 2)) + sum(x * x * x) / 6 }
fn hv(x: f64[3], v: f64[3]) { return sum(grad(g)(x) * v) }
fn twice(x: f64[2]) { return x * 2 }
fn square(x: f64[2, 3]) { return sum(x * x) }
NN

# value VAR TEXT: the value printed on the line that starts "VAR = "
value() { awk -v k="$1 = " 'index($0, k) == 1 { print substr($0, length(k) + 1) }' "$work/out" | tr -d '[],'; }
eval_ok() {
	"$NNC" --eval "$1" "$work/calc.nn" >"$work/out" 2>"$work/err" || { cat "$work/err"; die "--eval '$1' failed"; }
}

# d(w^2 + 3w)/dw = 2w + 3 = 7 at w = 2; the second derivative is 2, the third 0
eval_ok 'f(2)'
[ "$(value 'f(2)')" = 10 ] && [ "$(value 'd f/d w')" = 7 ] || { cat "$work/out"; die "f(2) and its derivative"; }
eval_ok 'df(2)'
[ "$(value 'df(2)')" = 7 ] && [ "$(value 'd df/d w')" = 2 ] || { cat "$work/out"; die "grad(f)(2)"; }
eval_ok 'd2f(-1.5)'
[ "$(value 'd2f(-1.5)')" = 2 ] && [ "$(value 'd d2f/d w')" = 0 ] || { cat "$work/out"; die "grad(grad(f))"; }
echo "ok: f(2) = 10, f'(2) = 7, f'' = 2, f''' = 0"

# a matrix is a list of rows; d sum(x^2)/dx = 2x
eval_ok 'square([[1, 2, 3], [4, 5, 6]])'
[ "$(value 'square([[1, 2, 3], [4, 5, 6]])')" = 91 ] && [ "$(value 'd square/d x')" = "2 4 6 8 10 12" ] &&
	grep -q '^d square/d x = \[\[2, 4, 6\], \[8, 10, 12\]\]$' "$work/out" || { cat "$work/out"; die "a 2 x 3 argument"; }
echo "ok: a 2 x 3 argument as nested lists, its gradient printed so"

# H v of g at x, by grad of x -> sum(grad(g)(x) * v), against
# (grad g(x + h v) - grad g(x - h v)) / 2h
x="0.3 -0.7 1.1" v="0.5 0.25 -1" h=0.0001
list() { echo "[$(echo "$@" | sed 's/ /, /g')]"; }
step() { awk -v x="$1" -v v="$2" -v s="$3" 'BEGIN { n = split(x, a, " "); split(v, b, " ")
	for (i = 1; i <= n; i++) printf "%s%.17g", (i > 1 ? " " : ""), a[i] + s * b[i] }'; }
eval_ok "hv($(list $x), $(list $v))"
auto=$(value 'd hv/d x')
eval_ok "g($(list $(step "$x" "$v" $h)))"
up=$(value 'd g/d x')
eval_ok "g($(list $(step "$x" "$v" -$h)))"
down=$(value 'd g/d x')
awk -v a="$auto" -v u="$up" -v d="$down" -v h=$h 'BEGIN {
	n = split(a, A, " "); split(u, U, " "); split(d, D, " ")
	for (i = 1; i <= n; i++) {
		fd = (U[i] - D[i]) / (2 * h); s = fd < 0 ? -fd : fd; s = s < 1e-3 ? 1e-3 : s
		e = (A[i] - fd) / s; e = e < 0 ? -e : e
		if (e > 1e-6) { printf "H v[%d]: autodiff %s, differences %.12g\n", i, A[i], fd; bad = 1 }
		if (e > worst) worst = e
	}
	printf "ok: H v = [%s], worst relative error %.1e\n", a, worst; exit bad }' || die "Hessian-vector product"

# a listing of f and its reverse, traced to source
"$NNC" --emit=grad --of f "$work/calc.nn" >"$work/out" 2>"$work/err" || { cat "$work/err"; die "--of f"; }
grep -q '^fn f(w: f64\[\])' "$work/out" && grep -q '; backward' "$work/out" &&
	grep -q 'store %[0-9]* -> w.grad .*calc.nn:1:6 .*d f/d w' "$work/out" || { cat "$work/out"; die "--of f listing"; }
echo "ok: --emit=grad --of f lists f, its backward and d f/d w"

# a value that is not a scalar has no gradient, and --eval says so
eval_ok 'twice([1, 2.5])'
[ "$(value 'twice([1, 2.5])')" = "2 5" ] && grep -q '^(no gradient: twice returns f64\[2\], not a scalar' "$work/out" ||
	{ cat "$work/out"; die "a vector-valued fn"; }
echo "ok: a vector-valued fn prints its value and why there is no gradient"

# what is not a call, or not this file's, is refused with the usage status
usage() {
	"$NNC" "$@" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq 2 ] && grep -q -- "$pattern" "$work/err" || { cat "$work/err"; die "nnc $*: exit $rc, want 2 and '$pattern'"; }
}
pattern="--eval 'f(1': expected ',' or ')' at column 4" usage --eval 'f(1' "$work/calc.nn"
pattern="a list of 1 where the first list at this depth has 2" usage --eval 'g([[1, 2], [3]])' "$work/calc.nn"
pattern="a number inside 2 lists where the first was inside 1" usage --eval 'g([1, [2], 3])' "$work/calc.nn"
pattern="drop -o" usage --eval 'f(1)' -o "$work/x" "$work/calc.nn"
pattern="not --emit=opt" usage --of f --emit=opt "$work/calc.nn"
"$NNC" "$work/calc.nn" >"$work/out" 2>"$work/err" && die "a file without a train block compiled"
grep -q "no 'train' block, so there is no trainer to build" "$work/err" &&
	grep -q "hint: .*nnc --emit=grad --of f FILE" "$work/err" || { cat "$work/err"; die "no train block"; }
echo "ok: usage errors; a file of functions alone says to use --of or --eval"
