import Foundation

/// Learning rate as a function of training progress, with an optional linear warm-up.
///
/// ```swift
/// let schedule = LearningRateSchedule.cosine(base: 0.1, totalEpochs: 15, minimum: 0)
/// let lr = schedule.rate(epoch: 3.5)
/// ```
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// `base * gamma^floor(epoch / every)`.
    case step(base: Float, every: Double, gamma: Float)
    /// `base * gamma^(number of milestones passed)`.
    case stepAt(base: Float, milestones: [Double], gamma: Float)
    /// `minimum + (base - minimum) * (1 + cos(pi * epoch / totalEpochs)) / 2`.
    case cosine(base: Float, totalEpochs: Double, minimum: Float)
    /// Linear ramp from `base / 10` to the inner schedule's value over `epochs`, then the inner schedule.
    indirect case warmup(epochs: Double, then: LearningRateSchedule)

    /// The rate at fractional epoch `epoch` (0 = start of training).
    public func rate(epoch: Double) -> Float {
        switch self {
        case let .constant(value):
            return value
        case let .step(base, every, gamma):
            return base * powf(gamma, Float((epoch / every).rounded(.down)))
        case let .stepAt(base, milestones, gamma):
            return base * powf(gamma, Float(milestones.filter { epoch >= $0 }.count))
        case let .cosine(base, total, minimum):
            let progress = min(max(epoch / total, 0), 1)
            return minimum + (base - minimum) * Float(1 + cos(Double.pi * progress)) / 2
        case let .warmup(epochs, inner):
            let target = inner.rate(epoch: epoch)
            guard epoch < epochs else { return target }
            let fraction = Float(epoch / epochs)
            return target * (0.1 + 0.9 * fraction)
        }
    }
}
