#!/bin/sh
# dot.sh — nnc --emit=dot draws the listing: Graphviz reads what it
# writes; every node of --emit=dot=grad (dot=opt) carries the number and
# op of its line in --emit=grad (--emit=opt); each backward node has a
# dotted edge to the forward node its line names ("of %k") and sits in
# the backward cluster of that node's call; the operands of sub, div and
# matmul are labelled a, b in order, an add's are not; --dot-depth folds
# calls into boxes (fewer nodes the smaller N, no edge to a node that is
# not drawn; mlp at depth 2, as docs/autodiff.md draws it, keeps every
# grad node and folds the update by parameter) and rejects a bad N as a
# usage error.
. "$(dirname "$0")/lib.sh"
command -v dot >/dev/null || die "graphviz's dot is missing (./quickstart installs it)"
mlp=$SRCDIR/examples/mlp.nn resnet=$SRCDIR/examples/resnet.nn

# emit WHAT FILE [ARGS...]: nnc --emit=WHAT into $work/WHAT.out
emit() {
	what=$1 file=$2; shift 2
	"$NNC" --emit="$what" "$@" "$file" >"$work/$what.out" 2>"$work/err" || { cat "$work/err"; die "--emit=$what $* $file failed"; }
}

# render FILE.dot: Graphviz lays it out without a word on stderr
render() {
	dot -Tsvg "$1" >"$work/pic.svg" 2>"$work/dot.err" && [ ! -s "$work/dot.err" ] && grep -q '<svg' "$work/pic.svg" ||
		{ cat "$work/dot.err"; die "dot -Tsvg cannot draw $1"; }
}

# ids TAG FILE.dot: "N op" for each node named TAG<N>, sorted
ids() { sed -n "s/^ *$1\([0-9]*\) \[label=\"%\1 \([^ \\\\]*\).*/\1 \2/p" "$2" | sort; }

# lines FN LISTING: "N op" for each "%N = op" line of function FN, sorted
lines() {
	awk -v fn="$1" '/^fn / { on = $2 ~ "^" fn "\\(" } on && $1 ~ /^%[0-9]+$/ && $2 == "=" { print substr($1, 2), $3 }' "$2" | sort
}

# endpoints FILE.dot: every name an edge ends at is a node drawn
endpoints() {
	sed -n 's/^ *\([a-z0-9]*\) \[label=.*/\1/p' "$1" | sort -u >"$work/drawn"
	sed -n 's/^ *\([a-z0-9]*\) -> \([a-z0-9]*\).*/\1\n\2/p' "$1" | sort -u >"$work/ends"
	[ -s "$work/ends" ] || die "$1 has no edges"
	missing=$(comm -13 "$work/drawn" "$work/ends" | head -3)
	[ -z "$missing" ] || die "$1: edges end at nodes never drawn: $missing"
}

for f in xor mlp; do
	for what in dot=grad dot=opt; do
		emit $what "$SRCDIR/examples/$f.nn"
		render "$work/$what.out"
		endpoints "$work/$what.out"
	done
done
emit dot "$mlp"
cmp -s "$work/dot.out" "$work/dot=grad.out" || die "--emit=dot should draw what --emit=dot=grad draws"
echo "ok: dot=grad and dot=opt of xor and mlp render; --emit=dot is dot=grad"
# docs/autodiff.md's picture of mlp: every line of grad, the update a box per parameter
emit dot=grad "$mlp" --dot-depth 2
emit grad "$mlp"
render "$work/dot=grad.out"
endpoints "$work/dot=grad.out"
ids g "$work/dot=grad.out" >"$work/a"
lines grad "$work/grad.out" >"$work/b"
[ "$(grep -c '^ *uc[0-9]* \[label="mlp.dense_[123].[Wb]\\n[0-9]* lines"' "$work/dot=grad.out")" = 6 ] &&
	[ "$(grep -c '^ *u[0-9]* \[label=' "$work/dot=grad.out")" = 1 ] && cmp -s "$work/a" "$work/b" ||
	die "--dot-depth 2 on mlp should draw every grad node and fold the update into 6 boxes"
echo "ok: mlp --dot-depth 2: every grad node, the update a box per parameter"

# The numbering: dot=grad against --emit=grad, dot=opt against --emit=opt.
for pair in "dot=grad grad" "dot=opt opt"; do
	set -- $pair
	emit $1 "$mlp"
	emit $2 "$mlp"
	for fn in grad:g update:u; do
		ids "${fn#*:}" "$work/$1.out" >"$work/a"
		lines "${fn%:*}" "$work/$2.out" >"$work/b"
		[ "$(wc -l <"$work/b")" -ge 20 ] || die "--emit=$2 has $(wc -l <"$work/b") lines in fn ${fn%:*}"
		cmp -s "$work/a" "$work/b" || { diff "$work/a" "$work/b" | head; die "--emit=$1's fn ${fn%:*} is not numbered as --emit=$2's"; }
	done
	echo "ok: --emit=$1 numbers the nodes of grad and update as --emit=$2 does"
done

# Backward lines: the dotted edge to "of %k", and the cluster of %k's call.
emit dot=grad "$mlp"
emit grad "$mlp"
g=$work/dot=grad.out
awk '/subgraph cluster_/ { depth++; next } /^ *label="/ && depth { split($0, q, "\""); name[depth] = q[2]; next }
	/^ *}$/ { depth--; next } /^ *g[0-9]+ \[label=/ { sub(/^ */, ""); split($0, w, " "); print substr(w[1], 2), (depth > 1 ? name[depth] : "-") }' \
	"$g" >"$work/cluster"
awk '/^fn update/ { exit } $1 ~ /^%[0-9]+$/ { for (i = 1; i < NF; i++) if ($i == "of") print substr($1, 2), substr($(i + 1), 2) }' \
	"$work/grad.out" >"$work/of"
[ "$(wc -l <"$work/of")" -ge 25 ] || die "--emit=grad of mlp has only $(wc -l <"$work/of") backward lines"
while read -r n k; do
	grep -q "^ *g$n -> g$k \[style=dotted" "$g" || die "backward node %$n has no dotted edge to %$k"
	want=$(awk -v k="$k" '$1 == k { print $2 }' "$work/cluster")
	got=$(awk -v n="$n" '$1 == n { $1 = ""; print substr($0, 2) }' "$work/cluster")
	case $want in -) [ "$got" = - ] ;; *) [ "$got" = "$want (backward)" ] ;; esac ||
		die "backward node %$n is in cluster '$got'; %$k is in '$want'"
done <"$work/of"
echo "ok: $(wc -l <"$work/of") backward nodes: a dotted edge to their forward node, in its call's backward cluster"
awk '/^fn update/ { exit } $1 ~ /^%[0-9]+$/ && $3 == "param" { print substr($1, 2), $4 }' "$work/grad.out" | while read -r n p; do
	[ "$(awk -v n="$n" '$1 == n { print $2 }' "$work/cluster")" = "${p%.*}" ] || die "param $p is not in cluster ${p%.*}"
done || exit 1
echo "ok: each parameter is drawn in the cluster of the call that declared it"

# Operand order: sub, div and matmul label their operands' edges a, b; add does not.
sed -n 's/^  %\([0-9]*\) = \(sub\|div\|matmul[.a-z]*\|add\) %\([0-9]*\), %\([0-9]*\) .*/\1 \2 \3 \4/p' "$work/grad.out" >"$work/ops"
grep -q ' sub ' "$work/ops" && grep -q ' div ' "$work/ops" && grep -q ' matmul' "$work/ops" || die "mlp's listing lost its sub, div or matmul"
while read -r n op a b; do
	if [ "$op" = add ]; then
		grep "^ *g[0-9]* -> g$n \[" "$g" | grep -q headlabel && die "the operands of add %$n are labelled"
	else
		grep -q "^ *g$a -> g$n \[.*headlabel=\"a\"" "$g" && grep -q "^ *g$b -> g$n \[.*headlabel=\"b\"" "$g" ||
			die "$op %$n: its operands %$a, %$b are not labelled a, b"
	fi
done <"$work/ops"
echo "ok: operand order on the edges of $(grep -vc ' add ' "$work/ops") sub/div/matmul nodes, none on $(grep -c ' add ' "$work/ops") adds"
grep -q 'label="%37 const 1\\n' "$g" && grep -q 'of %33: d/da (a/b) = 1/b' "$g" && grep -q 'layers.nn:12:14' "$g" ||
	die "the labels lack a constant's value, a rule or a file:line:col"
echo "ok: labels carry constants, rules, file:line:col"

# --dot-depth: 0 < 1 < 2 < unlimited nodes on resnet, every edge between drawn nodes.
count() { grep -c '^ *[gu]c*[0-9]* \[label=' "$1"; }
emit dot=grad "$resnet"
all=$(count "$work/dot=grad.out")
prev=0
for d in 0 1 2; do
	emit dot=grad "$resnet" --dot-depth $d
	endpoints "$work/dot=grad.out"
	n=$(count "$work/dot=grad.out")
	[ "$n" -gt "$prev" ] && [ "$n" -lt "$all" ] || die "--dot-depth $d draws $n nodes (depth less: $prev, unfolded: $all)"
	prev=$n
	echo "ok: resnet --dot-depth $d: $n nodes of $all"
done
emit dot=grad "$resnet" --dot-depth=1
grep -q 'label="resnet.residual_block_1\\nbackward, [0-9]* lines"' "$work/dot=grad.out" &&
	! grep -q 'label="resnet.residual_block_1"' "$work/dot=grad.out" || die "--dot-depth=1 does not fold residual_block_1 into a box"
render "$work/dot=grad.out"
echo "ok: --dot-depth=1 folds resnet's blocks into boxes and renders"

for bad in -1 x 1x '' 65 99999999999999999999 ' 1' +1; do
	"$NNC" --emit=dot --dot-depth "$bad" "$mlp" >"$work/out" 2>"$work/err"
	[ $? -eq 2 ] && grep -q "dot-depth" "$work/err" && [ ! -s "$work/out" ] || { cat "$work/err"; die "--dot-depth '$bad' is not a usage error"; }
done
"$NNC" --emit=dot "$mlp" --dot-depth >"$work/out" 2>"$work/err"
[ $? -eq 2 ] || die "--dot-depth without N is not a usage error"
"$NNC" --emit=grad --dot-depth 1 "$mlp" >"$work/out" 2>"$work/err"
[ $? -eq 2 ] && grep -q "emit=dot" "$work/err" || die "--dot-depth without --emit=dot is not a usage error"
echo "ok: bad --dot-depth values exit 2: $(head -1 "$work/err")"
