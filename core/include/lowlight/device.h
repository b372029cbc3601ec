#pragma once
// Device choice, made once by the front end and passed down. Light header.
#include <string>

namespace lowlight {

enum class DeviceKind { Auto, CPU, CUDA };

bool cuda_available();
// Auto resolves to CUDA when LibTorch reports a device, else CPU. Forced CUDA without CUDA throws.
DeviceKind resolve_device(DeviceKind requested);
DeviceKind parse_device(const std::string& name);  // "auto", "cpu", "cuda"; throws otherwise
const char* device_name(DeviceKind kind);
// Numeric precision of inference (and of training's autocast). BF16 on a CPU with AMX-BF16 runs the compact
// model about 5x faster than FP32 and stays about 55 dB from it on 8-bit output (docs/performance.md); without
// native bf16 units it is emulated and slower than FP32, so Auto picks it only where the CPU has them.
enum class Precision { Auto, F32, BF16, F16 };
Precision parse_precision(const std::string& name);  // "auto", "fp32", "bf16", "fp16"; throws otherwise
const char* precision_name(Precision precision);
// True when the CPU multiplies bf16 natively (AMX-BF16, as the kernel reports it in /proc/cpuinfo).
bool cpu_has_native_bf16();
// Auto: FP16 on CUDA, BF16 on CPU with native bf16, else FP32. FP16 on CPU throws (LibTorch has no fast
// CPU kernels for it). `device` must already be resolved (not Auto).
Precision resolve_precision(Precision requested, DeviceKind device);
// A process-wide setting, so it lives with the device choice: libgomp's default wait policy spins between
// parallel regions, and on a loaded machine the spinning threads take the cores the working ones need
// (2 threads ran 3.7x slower than with OMP_WAIT_POLICY=PASSIVE, see docs/performance.md). libgomp reads the variable once, when it is
// loaded, before main(); so init_process() calls this first of all: unless OMP_WAIT_POLICY is set
// already (the user's choice wins), it sets PASSIVE and re-executes the program (/proc/self/exe, same argv
// and open files). Returns only when nothing needed doing or the exec failed (harmless: default policy).
void prefer_passive_openmp(char** argv);
// Keeps freed memory in the process for reuse. glibc hands every block above 32 MB out as a fresh mmap() and
// unmaps it on free, so each full-resolution activation is page-faulted in (and zeroed by the kernel) again:
// bf16 inference on a 3-megapixel image ran 3.5x slower for it (docs/performance.md). init_process() calls
// this once at start; the price is that the peak stays resident until the process ends.
void keep_freed_memory();
// What every program does first thing in main(), before any other work, in this order:
// prefer_passive_openmp(argv) (which may re-execute the program once), keep_freed_memory(), and LibTorch's
// thread count set to default_cpu_threads() for work outside an Enhancer's calls (each Enhancer runs its
// calls with its own count, engine.h). `argc`/`argv` as main() got them.
void init_process(int argc, char** argv);
// Physical cores (SMT siblings counted once) among the CPUs in this process's affinity mask, at least 1.
int physical_cpu_cores();
// The CPU threads worth using: physical cores among the CPUs this process may run on (its affinity mask),
// capped by the cgroup's CPU quota (containers), at least 1; OMP_NUM_THREADS, when set, instead. Debian's
// LibTorch defaults to one thread.
int default_cpu_threads();
// The most threads accepted: 4x the CPUs the process may use (more only slows it down).
int max_cpu_threads();
// `threads` as a count to run with: 0 gives default_cpu_threads(); throws below 0 or above max_cpu_threads().
int resolve_cpu_threads(int threads);
// Sets LibTorch's intra-op thread count for the calling thread and the default that threads starting later
// take; 0: default_cpu_threads(). Throws above max_cpu_threads(). An Enhancer's calls use the Enhancer's own
// count instead (engine.h).
void set_cpu_threads(int threads);

}  // namespace lowlight
