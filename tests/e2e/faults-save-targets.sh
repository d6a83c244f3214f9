#!/bin/sh
# faults-save-targets.sh — what --save may replace.  A checkpoint is
# written to FILE.tmp and renamed over FILE, which would swap a device, a
# FIFO or a socket for a regular file (as root, even /dev/full): such a
# FILE is refused before training (exit 3, one line), and left as it was.
# A symbolic link is followed: the file it points to is replaced
# atomically (or created, for a dangling link) and the link stays.  A
# stale FILE.tmp (a link, a FIFO) is not written through.  --load reads
# a FIFO as it reads a file.
. "$(dirname "$0")/lib.sh"

cat >"$work/tiny.nn" <<'EOF'
import layers
model tiny(x: f32[B, 4]) -> f32[B, 2] {
    return dense(x, 2)
}
train tiny {
    data train = random(count: 32, classes: 2)
    loss = cross_entropy(tiny(train.x), train.y)
    batch 8
    epochs 1
    seed 4
}
EOF
compile tiny "$work/tiny.nn"
T=$work/tiny
$T train -q --save "$work/ref.st" || die "training failed"

# refused NAME PATTERN FILE: --save FILE exits 3 before training with one line
refused() {
	one_line 3 "$1" "$2" $T train --save "$3"
	[ ! -s "$work/out" ] || die "$1: trained before refusing"
}
why="a checkpoint is written to a new file and renamed over the old one, so it must be a regular file or not exist yet"

# A device: one made here first, so that a regression replaces it rather
# than the system's /dev/full; then /dev/full itself.
if mknod "$work/full" c 1 7 2>/dev/null; then
	refused "a character device" "--save $work/full: it is a character device; $why" "$work/full"
	[ -c "$work/full" ] || die "the device was replaced"
	refused "/dev/full" "--save /dev/full: .*" /dev/full
	[ -c /dev/full ] || die "/dev/full is no longer a character device"
else
	[ "$(id -u)" -ne 0 ] || { echo "note: cannot mknod as root here; /dev/full is left untested"; }
	[ "$(id -u)" -eq 0 ] || refused "/dev/full" "--save /dev/full: cannot write in /dev" /dev/full
fi
mkfifo "$work/fifo" || die "mkfifo failed"
refused "a FIFO" "--save $work/fifo: it is a FIFO; $why" "$work/fifo"
[ -p "$work/fifo" ] || die "the FIFO was replaced"
mkdir "$work/dir"
refused "a directory" "--save $work/dir: is a directory" "$work/dir"
ln -s fifo "$work/to-fifo"
refused "a link to a FIFO" "--save $work/to-fifo (a link to $work/fifo): it is a FIFO" "$work/to-fifo"
ln -s dir "$work/to-dir"
refused "a link to a directory" "--save $work/to-dir (a link to $work/dir): is a directory" "$work/to-dir"
ln -s nodir/x.st "$work/to-nowhere"
refused "a link into a missing directory" "--save $work/to-nowhere (a link to $work/nodir/x.st): cannot use the directory $work/nodir" \
	"$work/to-nowhere"
ln -s loop2 "$work/loop1"; ln -s loop1 "$work/loop2"
refused "a loop of links" "cannot save to $work/loop1: too many levels of symbolic links" "$work/loop1"

# saved NAME LINK TARGET: training with --save LINK wrote TARGET, equal to
# the reference checkpoint, and LINK is still a link
saved() {
	$T train -q --save "$2" 2>"$work/err" || { cat "$work/err"; die "$1: the save failed"; }
	[ -L "$2" ] || die "$1: the link was replaced"
	cmp -s "$3" "$work/ref.st" || die "$1: $3 is not the checkpoint"
	[ ! -e "$3.tmp" ] || die "$1: left $3.tmp behind"
	echo "ok: $1: the file it points to holds the checkpoint, the link stays"
}
echo old >"$work/real.st"
ln -s real.st "$work/link.st"
saved "a link to a file" "$work/link.st" "$work/real.st"
mkdir "$work/sub"
ln -s ../dangling.st "$work/sub/link.st"
saved "a dangling relative link" "$work/sub/link.st" "$work/dangling.st"
ln -s "$work/link.st" "$work/chain.st"
echo old >"$work/real.st"
saved "a link to a link" "$work/chain.st" "$work/real.st"

# stale FILE.tmp: a link is replaced, not written through; a FIFO does not block
echo victim >"$work/victim"
ln -s victim "$work/new.st.tmp"
$T train -q --save "$work/new.st" || die "a save over a stale FILE.tmp link failed"
[ "$(cat "$work/victim")" = victim ] || die "the save wrote through the stale FILE.tmp link"
cmp -s "$work/new.st" "$work/ref.st" || die "the save over a stale FILE.tmp link wrote another checkpoint"
mkfifo "$work/other.st.tmp"
timeout 60 $T train -q --save "$work/other.st" || die "a save over a stale FILE.tmp FIFO failed or hung"
cmp -s "$work/other.st" "$work/ref.st" || die "the save over a stale FILE.tmp FIFO wrote another checkpoint"
echo "ok: a stale FILE.tmp (a link, a FIFO) is replaced, not written through"

# --load from a FIFO and from standard input
cat "$work/ref.st" >"$work/fifo" &
$T eval --load "$work/fifo" >"$work/a" 2>"$work/err" || { cat "$work/err"; die "--load of a FIFO failed"; }
wait
$T eval --load "$work/ref.st" >"$work/b" 2>&1 || die "--load of the file failed"
$T eval --load - <"$work/ref.st" >"$work/c" 2>&1 || die "--load - failed"
cmp -s "$work/a" "$work/b" && cmp -s "$work/c" "$work/b" || die "--load of a FIFO or - evaluates otherwise than of the file"
echo "ok: --load reads a FIFO and standard input as it reads the file"
