import XCTest
@testable import Generator

final class TensorTests: XCTestCase {
    func testCreationAndViews() {
        let t = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.count, 6)
        XCTAssertEqual(t.toArray(), [1, 2, 3, 4, 5, 6])
        let v = t.reshaped([3, -1])
        XCTAssertEqual(v.shape, [3, 2])
        XCTAssertTrue(v.storage === t.storage, "reshape is a view")
        XCTAssertEqual(t.permuted([1, 0]).toArray(), [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(Tensor.zeros([2]).toArray(), [0, 0])
        XCTAssertEqual(Tensor.full([3], 2.5).toArray(), [2.5, 2.5, 2.5])
        XCTAssertEqual(Tensor(4).item, 4)
        XCTAssertEqual(Tensor.concat([t, t], axis: 0).shape, [4, 3])
        XCTAssertEqual(t.slice(axis: 1, 1..<3).toArray(), [2, 3, 5, 6])
        XCTAssertEqual(t.sum(axis: 0).toArray(), [5, 7, 9])
        XCTAssertEqual(t.mean().item, 3.5)
    }

    /// Permutations that merge into a (batched) 2-D transpose take a tiled copy; others the
    /// element-wise one. Every case against index arithmetic, with sizes that are and are not
    /// multiples of the 16 x 16 tile (the temporal transformer's [B, F, C, HW] <-> [B, HW, F, C]).
    func testPermutationsMatchIndexArithmetic() {
        let cases: [(shape: [Int], order: [Int])] = [
            ([2, 3, 5, 37], [0, 3, 1, 2]), ([2, 37, 3, 5], [0, 2, 3, 1]), ([33, 17], [1, 0]), ([16, 32], [1, 0]),
            ([3, 4, 20], [0, 2, 1]), ([2, 3, 4, 5], [3, 1, 0, 2]), ([1, 40, 1, 18], [0, 3, 2, 1]), ([4, 7], [1, 0]),
        ]
        for (shape, order) in cases {
            let x = randomTensor(shape, seed: UInt64(shape.reduce(0, +)), requiresGrad: false)
            let xs = x.toArray(), y = x.permuted(order)
            let outShape = order.map { shape[$0] }
            XCTAssertEqual(y.shape, outShape)
            var inStrides = [Int](repeating: 1, count: shape.count)
            for i in stride(from: shape.count - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * shape[i + 1] }
            var expected = [Float]()
            for flat in 0..<x.count {
                var rem = flat, src = 0
                for i in stride(from: outShape.count - 1, through: 0, by: -1) {
                    src += (rem % outShape[i]) * inStrides[order[i]]
                    rem /= outShape[i]
                }
                expected.append(xs[src])
            }
            XCTAssertEqual(y.toArray(), expected, "permute \(shape) by \(order)")
        }
    }

    func testBroadcastValues() {
        let a = Tensor(shape: [2, 1, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [2, 1], data: [10, 20])
        XCTAssertEqual((a + b).shape, [2, 2, 3])
        XCTAssertEqual((a + b).toArray(), [11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26])
        XCTAssertEqual((b - a).toArray(), [9, 8, 7, 19, 18, 17, 6, 5, 4, 16, 15, 14])
        XCTAssertEqual((a * 2).toArray(), [2, 4, 6, 8, 10, 12])
        XCTAssertEqual(Tensor(shape: [2, 3], data: [1, 1, 1, 2, 2, 2]).sumToShape([1, 3]).toArray(), [3, 3, 3])
        XCTAssertEqual(Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6]).sumToShape([2, 1]).toArray(), [6, 15])
        // Reduced inner runs longer than a vector (16 lanes plus a tail): [2, 3, 37] -> [1, 3, 1].
        let long = Tensor(shape: [2, 3, 37], data: (0..<222).map { Float($0 % 37) + Float($0 / 111) })
        XCTAssertEqual(long.sumToShape([1, 3, 1]).toArray(), [Float](repeating: 2 * 666 + 37, count: 3))
    }

    func testRandomInitialisersAreDeterministic() {
        var r1 = TestRNG(seed: 5), r2 = TestRNG(seed: 5)
        let a = Tensor.randn([1001], using: &r1), b = Tensor.randn([1001], using: &r2)
        XCTAssertEqual(a.toArray(), b.toArray())
        let v = a.toArray()
        let mean = v.reduce(0, +) / Float(v.count)
        let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)
        XCTAssertEqual(mean, 0, accuracy: 0.1)
        XCTAssertEqual(variance, 1, accuracy: 0.15)
    }

    /// OpenBLAS against the plain Swift oracle, all transpose combinations, with alpha/beta
    /// and leading dimensions larger than the matrix (rtol 1e-5, atol 1e-5).
    func testBLASMatchesReference() {
        var rng = TestRNG(seed: 9)
        let (m, n, k) = (37, 29, 53)
        for transA in [false, true] {
            for transB in [false, true] {
                let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 1
                let a = (0..<((transA ? k : m) * lda)).map { _ in Float.random(in: -1..<1, using: &rng) }
                let b = (0..<((transB ? n : k) * ldb)).map { _ in Float.random(in: -1..<1, using: &rng) }
                let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1..<1, using: &rng) }
                var c1 = c0, c2 = c0
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c1.withUnsafeMutableBufferPointer { pc in
                            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                                       b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: ldc)
                        }
                        c2.withUnsafeMutableBufferPointer { pc in
                            BLAS.referenceSgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.7, a: pa.baseAddress!, lda: lda,
                                                b: pb.baseAddress!, ldb: ldb, beta: 0.3, c: pc.baseAddress!, ldc: ldc)
                        }
                    }
                }
                assertClose(c1, c2, rtol: 1e-5, atol: 1e-5, "transA \(transA) transB \(transB)")
            }
        }
    }

    /// The worker pool runs every chunk exactly once: back-to-back jobs (workers spinning),
    /// jobs after the workers fell asleep, nested loops (run serially inside a chunk), callers on
    /// several threads at once (one gets the pool, the others run serially), and thread counts
    /// changed between jobs.
    func testWorkerPoolRunsEveryChunkOnce() {
        let before = Parallel.threadCount
        defer { BLAS.setThreadCount(before) }
        func check(_ count: Int, grain: Int, file: StaticString = #filePath, line: UInt = #line) {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: count)
            defer { hits.deallocate() }
            hits.initialize(repeating: 0, count: count)
            Parallel.forRange(count, grain: grain) { r in
                for i in r { hits[i] += 1 }
            }
            let wrong = (0..<count).filter { hits[$0] != 1 }
            XCTAssertTrue(wrong.isEmpty, "indices not run exactly once: \(wrong.prefix(5))", file: file, line: line)
        }
        for threads in [2, 3, 1, 4, 2] {
            BLAS.setThreadCount(threads)
            for _ in 0..<2000 { check(997, grain: 1) }
            usleep(5_000)  // past the workers' spin window: they sleep, the next job wakes them
            check(10_000, grain: 16)
        }
        // Nested: the inner loop runs serially inside each outer chunk.
        BLAS.setThreadCount(2)
        let cells = UnsafeMutablePointer<Int32>.allocate(capacity: 64 * 64)
        defer { cells.deallocate() }
        cells.initialize(repeating: 0, count: 64 * 64)
        Parallel.forEach(64) { i in
            Parallel.forRange(64, grain: 1) { r in for j in r { cells[i * 64 + j] += 1 } }
        }
        XCTAssertTrue((0..<(64 * 64)).allSatisfy { cells[$0] == 1 }, "nested loops")
        // Several callers at once.
        let callers = 4, n = 4096
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: callers * n)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: callers * n)
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<200 {
                Parallel.forRange(n, grain: 8) { r in for i in r { sums[c * n + i] += 1 } }
            }
        }
        XCTAssertTrue((0..<(callers * n)).allSatisfy { sums[$0] == 200 }, "concurrent callers")
    }

    /// Results must not depend on the number of threads (parallel chunking is race-free).
    func testThreadCountDoesNotChangeResults() {
        let x = randomTensor([4, 8, 16, 16], seed: 31, requiresGrad: false, scale: 2)
        let w = randomTensor([8, 8, 3, 3], seed: 32, requiresGrad: false)
        func run() -> [Float] {
            let y = groupNorm(conv2d(x, weight: w, bias: nil, padding: 1), groups: 4, weight: nil, bias: nil).silu()
            let q = y.reshaped([4, 8, 256]).transposed(1, 2)
            return scaledDotProductAttention(query: q, key: q, value: q).softmax().toArray()
        }
        let before = Parallel.threadCount
        defer { BLAS.setThreadCount(before) }
        BLAS.setThreadCount(1)
        let one = run()
        BLAS.setThreadCount(2)
        let two = run()
        assertClose(two, one, rtol: 1e-5, atol: 1e-6)
    }

    /// Freed activation buffers are reused from the heap, not handed back to the kernel and
    /// faulted in again: 200 allocations of 4 MiB written in full must not cost a fresh page each
    /// (200 x 1024 faults when glibc mmaps every buffer).
    func testFreedBuffersAreReusedWithoutPageFaults() throws {
        // A sanitizer's allocator replaces glibc's (mallopt is refused, freed memory is quarantined).
        try XCTSkipIf(ProcessInfo.processInfo.environment["T2V_SANITIZER"] != nil, "glibc's allocator is replaced under a sanitizer")
        XCTAssertTrue(TensorStorage.configureAllocator, "glibc refused the heap settings (mallopt)")
        func minorFaults() -> Int {
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            return usage.ru_minflt
        }
        let count = 1 << 20, rounds = 200
        do { let warm = TensorStorage(zeroedCount: count); withExtendedLifetime(warm) {} }
        let before = minorFaults()
        for _ in 0..<rounds {
            let storage = TensorStorage(zeroedCount: count)
            withExtendedLifetime(storage) {}
        }
        let faults = minorFaults() - before
        let fresh = rounds * count * MemoryLayout<Float>.stride / 4096
        XCTAssertLessThan(faults, fresh / 10, "\(faults) page faults for \(rounds) reused 4 MiB buffers (\(fresh) if none were reused)")
    }
}
