import Testing

/// All end-to-end suites run one after another: they time real processes on a two-core machine.
@Suite("End to end, against the built binary", .serialized)
enum EndToEnd {}
