/// The colors of the HTML report: one per precision (the per-layer bars) and one per model (the
/// scatter plots). Hues follow the Tableau 10 palette, chosen to stay apart for the common forms of
/// color blindness; precision colors run from blue (float32) through green (int8) to red (binary)
/// so that "warmer" reads as "fewer bits".
///
/// ```swift
/// ReportPalette.color(forPrecision: "int8")   // "#59a14f"
/// ReportPalette.color(forModel: 1)             // "#f28e2b"
/// ```
public enum ReportPalette {
    /// The color of a ``Precision/label``.
    public static func color(forPrecision label: String) -> String {
        switch label {
        case "float32": return "#4e79a7"
        case "fp8": return "#76b7b2"
        case "ternary": return "#f28e2b"
        case "binary": return "#e15759"
        default:
            guard label.hasPrefix("int"), let bits = Int(label.dropFirst(3)) else { return "#bab0ac" }
            switch bits {
            case 9...: return "#9c755f"
            case 5...8: return "#59a14f"
            case 3...4: return "#d4a017"
            default: return "#ff9da7"
            }
        }
    }

    /// Legend order: most bits first, as a report reads from full precision down.
    public static func legendOrder(_ labels: Set<String>) -> [String] {
        func bits(_ label: String) -> Int {
            switch label {
            case "float32": return 32
            case "fp8": return 8
            case "ternary": return 2
            case "binary": return 1
            default: return Int(label.dropFirst(3)) ?? 0
            }
        }
        return labels.sorted { bits($0) != bits($1) ? bits($0) > bits($1) : $0 < $1 }
    }

    static let modelColors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
                              "#ff9da7", "#9c755f", "#bab0ac"]

    /// The color of the `index`-th model; the palette repeats after ten.
    public static func color(forModel index: Int) -> String {
        modelColors[index % modelColors.count]
    }
}
