/// Eigen-decomposition of small symmetric matrices (covariances: the Frechet distance's, the text
/// whitening's).
enum SymmetricEigen {
    /// Eigenvalues and eigenvectors (columns of a row-major matrix) of a symmetric matrix, by
    /// the cyclic Jacobi method (Golub & Van Loan, Algorithm 8.5.3).
    static func decompose(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        // Symmetrise against rounding in the input.
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { let s = (a[i * n + j] + a[j * n + i]) / 2; a[i * n + j] = s; a[j * n + i] = s } }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(a.reduce(0) { max($0, abs($1)) }, 1e-300)
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { off += a[i * n + j] * a[i * n + j] } }
            if off.squareRoot() <= 1e-15 * scale * Double(n) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }
}
