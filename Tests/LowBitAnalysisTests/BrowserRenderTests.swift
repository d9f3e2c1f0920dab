import Foundation
import Testing
@testable import LowBitAnalysis

/// Renders report pages in headless Chromium through scripts/render-report.sh. Slow and needs the
/// Debian `chromium` package, so it runs only with LOWBIT_BROWSER_TESTS=1 (CI sets it).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["LOWBIT_BROWSER_TESTS"] == "1"))
struct BrowserRenderTests {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/render-report.sh").path

    /// Runs the script; returns its exit status and what it printed.
    private func render(_ html: String, in directory: TemporaryDirectory, size: String) throws -> (status: Int32, output: String, png: String) {
        let page = directory.file("report.html"), png = directory.file("report.png")
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.script)
        process.arguments = [page, png, size]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output, png)
    }

    @Test(arguments: ["1280,2000", "390,1600"])
    func theExampleReportRendersOnALaptopAndAPhone(size: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try render(HTMLReport.render(try ExampleModels.reports()), in: directory, size: size)
        #expect(result.status == 0, "\(result.output)")
        let bytes = try FileManager.default.attributesOfItem(atPath: result.png)[.size] as? Int ?? 0
        #expect(bytes > 10_000, "the screenshot is only \(bytes) bytes")
    }

    /// The console check works: a page that logs an error fails the render.
    @Test func aConsoleErrorFailsTheRender() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broken = "<!DOCTYPE html><html><body><p>x</p><script>console.error('broken page')</script></body></html>"
        let result = try render(broken, in: directory, size: "400,300")
        #expect(result.status != 0 && result.output.contains("broken page"), "\(result.output)")
    }
}
