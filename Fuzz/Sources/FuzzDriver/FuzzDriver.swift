// The one libFuzzer driver of the fuzz targets. SwiftPM links an executable with `main` aliased to
// `<Target>_main` (so that tests can call it), which `-parse-as-library` never emits; each target
// defines that symbol as a one-line call to `runLibFuzzer`, which hands control to libFuzzer's
// driver as libFuzzer's own `main` would.

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

/// Runs libFuzzer with the process arguments and `target` as the function under test.
public func runLibFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                         _ target: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, target)
}
