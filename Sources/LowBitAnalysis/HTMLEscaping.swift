/// Text made safe to place in HTML or SVG, as element content or inside a quoted attribute:
/// `&`, `<`, `>`, `"` and `'` become character references. Every string the report did not write
/// itself (model paths, layer and policy names, energy table descriptions) goes through it.
///
/// ```swift
/// htmlEscaped("<b>&\"")   // "&lt;b&gt;&amp;&quot;"
/// ```
public func htmlEscaped(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&#39;"
        default: result.append(character)
        }
    }
    return result
}
