import LowBitTensor
import Testing
@testable import LowBitNN

/// Optimizer steps and schedules against values worked out by hand.
struct OptimizerTests {
    @Test func sgdNesterovMomentumAndWeightDecay() {
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        p.grad = Tensor(shape: [1], data: [0.5])
        sgd.step([p])
        // g = 0.5 + 0.01 * 1 = 0.51; v = 0.51; w = 1 - 0.1 * (0.51 + 0.9 * 0.51) = 0.9031
        #expect(abs(p.value.data[0] - 0.9031) < 1e-6)
        p.grad = Tensor(shape: [1], data: [0.5])
        sgd.step([p])
        // g = 0.5 + 0.009031 = 0.509031; v = 0.9 * 0.51 + 0.509031 = 0.968031
        // w = 0.9031 - 0.1 * (0.509031 + 0.9 * 0.968031) = 0.76507411
        #expect(abs(p.value.data[0] - 0.76507411) < 1e-6)
    }

    @Test func sgdSkipsDecayForNonDecayingParameters() {
        let p = Parameter(name: "b", value: Tensor(shape: [1], data: [2]), decays: false)
        let sgd = SGD(learningRate: 0.5, momentum: 0, weightDecay: 1)
        p.grad = Tensor(shape: [1], data: [1])
        sgd.step([p])
        #expect(p.value.data[0] == 1.5)
    }

    @Test func adamFirstStepMovesByLearningRate() {
        // With bias correction, the first Adam step is lr * g / (|g| + eps) = lr * sign(g).
        let p = Parameter(name: "w", value: Tensor(shape: [2], data: [1, -1]), decays: false)
        let adam = Adam(learningRate: 0.01)
        p.grad = Tensor(shape: [2], data: [3, -0.2])
        adam.step([p])
        #expect(abs(p.value.data[0] - 0.99) < 1e-6)
        #expect(abs(p.value.data[1] - -0.99) < 1e-6)
    }

    @Test func adamWDecaysDecoupled() {
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let adam = Adam(learningRate: 0.1, weightDecay: 0.5, decoupledWeightDecay: true)
        p.grad = Tensor(shape: [1], data: [0])
        adam.step([p])
        // update 0 (m = 0), decay: w -= 0.1 * 0.5 * 1
        #expect(abs(p.value.data[0] - 0.95) < 1e-6)
    }

    @Test func clippedParametersStayInRange() {
        let p = Parameter(name: "w", value: Tensor(shape: [2], data: [0.95, -0.95]), clip: -1...1)
        let sgd = SGD(learningRate: 1, momentum: 0)
        p.grad = Tensor(shape: [2], data: [-1, 1])
        sgd.step([p])
        #expect(p.value.data == [1, -1])
    }

    @Test func schedules() {
        let cosine = LearningRateSchedule.cosine(base: 0.1, totalEpochs: 10, minimum: 0)
        #expect(cosine.rate(epoch: 0) == 0.1)
        #expect(abs(cosine.rate(epoch: 5) - 0.05) < 1e-7)
        #expect(abs(cosine.rate(epoch: 10)) < 1e-7)
        let step = LearningRateSchedule.stepAt(base: 1, milestones: [5, 8], gamma: 0.1)
        #expect(step.rate(epoch: 4.9) == 1)
        #expect(abs(step.rate(epoch: 5) - 0.1) < 1e-7)
        #expect(abs(step.rate(epoch: 9) - 0.01) < 1e-8)
        let every = LearningRateSchedule.step(base: 1, every: 2, gamma: 0.5)
        #expect(every.rate(epoch: 3.9) == 0.5)
        let warm = LearningRateSchedule.warmup(epochs: 2, then: .constant(1))
        #expect(abs(warm.rate(epoch: 0) - 0.1) < 1e-7)
        #expect(abs(warm.rate(epoch: 1) - 0.55) < 1e-7)
        #expect(warm.rate(epoch: 2) == 1)
    }

    @Test func trainingConfigRejectsNonsense() {
        #expect(throws: LowBitError.self) { try TrainingConfig(batchSize: 0).validate() }
        #expect(throws: LowBitError.self) { try TrainingConfig(learningRate: -1).validate() }
        #expect(throws: LowBitError.self) { try TrainingConfig(optimizer: "rmsprop").validate() }
        #expect(throws: LowBitError.self) { try TrainingConfig(schedule: "linear").validate() }
        #expect(throws: Never.self) { try TrainingConfig().validate() }
    }
}
