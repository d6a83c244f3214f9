"""What the sequence references (torch_char.py, torch_adding.py) print
about where they ran: the CPU model, torch's version, the BLAS and oneDNN
torch was built with and the threads it uses.  A tokens/s figure means
little without them: Debian's torch uses its generic BLAS for its own
GEMMs and oneDNN (MKL-DNN) for some layers, and the RNN layers on the CPU
go through ATen's own loop over time steps."""
import os, platform
import torch


def cpu_model():
    """The 'model name' line of /proc/cpuinfo, or the platform's word."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_lines():
    """The lines of torch.__config__.show() that name BLAS, LAPACK,
    oneDNN (MKL-DNN), the CPU capability and the parallel backend."""
    keep = ("mkl-dnn", "onednn", "lapack", "cpu capability", "openmp", "blas")
    lines = [l.strip().lstrip("- ") for l in torch.__config__.show().splitlines()]
    out = [l for l in lines if any(k in l.lower() for k in keep) and not l.startswith("Build settings")]
    for l in lines:   # BLAS_INFO=... lives inside the long Build settings line
        for item in l.split(", "):
            key = item.split("=")[0].split(":")[-1].strip()
            if key in ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP"):
                out.append(item.split(": ")[-1].strip())
    return out


def loaded_libraries():
    """The BLAS, oneDNN and OpenMP libraries mapped into this process, by
    their real paths: BLAS_INFO=generic means whatever libblas.so.3 the
    system's alternatives point at (OpenBLAS on this Debian)."""
    found = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                if any(k in path for k in ("blas", "dnnl", "mkldnn", "gomp", "omp.so")) and path not in found:
                    found.append(path)
    except OSError:
        pass
    return [f"{p} -> {os.path.realpath(p)}" if os.path.realpath(p) != p else p for p in found]


def set_threads_and_seed(threads, seed):
    """torch on `threads` threads (intra-op; one inter-op), seeded."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:   # only settable before the first parallel work
        pass
    torch.manual_seed(seed)


def print_environment():
    print(f"cpu: {cpu_model()}")
    print(f"torch: {torch.__version__}, threads {torch.get_num_threads()} "
          f"(interop {torch.get_num_interop_threads()})")
    for line in build_lines():
        print(f"torch build: {line}")
    for line in loaded_libraries():
        print(f"torch loaded: {line}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: OpenBLAS picks)')}")
