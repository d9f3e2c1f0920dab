/// The models no other model beats on both counts: lower (or equal) cost and higher (or equal)
/// accuracy, with at least one strictly better. These are the only sensible choices; the report
/// draws the line through them.
///
/// Returns indices into `points` sorted by cost. Sorting by cost (then accuracy, best first) and
/// keeping each point that raises the best accuracy seen so far finds the front in O(n log n).
///
/// ```swift
/// paretoFront([(cost: 10, accuracy: 0.9), (cost: 5, accuracy: 0.95), (cost: 1, accuracy: 0.5)])   // [2, 1]
/// ```
public func paretoFront(_ points: [(cost: Double, accuracy: Double)]) -> [Int] {
    let order = points.indices.sorted {
        points[$0].cost != points[$1].cost ? points[$0].cost < points[$1].cost : points[$0].accuracy > points[$1].accuracy
    }
    var front: [Int] = []
    var best = -Double.infinity
    for index in order where points[index].accuracy > best {
        front.append(index)
        best = points[index].accuracy
    }
    return front
}
