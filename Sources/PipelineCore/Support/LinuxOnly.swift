// pipeline runs on Linux only; a build elsewhere stops here with a message rather than later with
// a missing /proc, fallocate or glibc sigaction.
#if !os(Linux)
#error("pipeline builds and runs on Linux only (it reads /proc, preallocates with fallocate and uses glibc's sigaction): build it on Linux, or in a Linux container such as `docker run --rm -v \"$PWD\":/src -w /src swift:6.3 swift build`")
#endif
