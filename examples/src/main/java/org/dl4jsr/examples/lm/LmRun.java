package org.dl4jsr.examples.lm;

import org.dl4jsr.examples.lm.sweep.Progress;
import org.dl4jsr.diagnostics.StagnationReport;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.dl4jsr.Bf16Grid;
import org.dl4jsr.diagnostics.StagnationMeter;
import org.dl4jsr.diagnostics.TrainingMemory;
import org.dl4jsr.WarmupCosineSchedule;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Trains the model once with one strategy and learning rate, evaluating the validation loss along the way. */
public final class LmRun {
    /** One evaluation point: after {@code step} training steps. Losses in nats per byte. */
    public record Point(int step, double learningRate, double trainLoss, double validationLoss, double stalledFraction,
                 double relativeUpdate) {
    }

    /**
     * Training loss (nats per byte) above which a run counts as diverged: 1.5 times the loss of the untrained model's
     * uniform guess (ln 256 = 5.55). A model that learned anything never gets there; an exploding one does within a
     * few steps, often before its loss becomes NaN.
     */
    static final double DIVERGED_LOSS = 1.5 * Math.log(256);

    /**
     * What one run measured. {@code divergedAtStep} is 0 for a run that finished, else the step whose loss was
     * non-finite or above {@link #DIVERGED_LOSS}; such a run stopped there and its validation loss is NaN.
     */
    public record Result(PrecisionStrategy strategy, double peakLr, long seed, List<Point> curve, double validationLoss,
                  double tokensPerSecond, double bytesPerParameter, double stalledFraction, long parameters,
                  long offGridWeights, double meterMillisPerStep, double trainingSeconds, int divergedAtStep,
                  MultiLayerNetwork net) {
        public double perplexity() {
            return Math.exp(validationLoss);
        }

        public boolean diverged() {
            return divergedAtStep > 0;
        }

        /** The same figures without the network (a sweep of many runs keeps only the numbers). */
        Result withoutNet() {
            return new Result(strategy, peakLr, seed, curve, validationLoss, tokensPerSecond, bytesPerParameter,
                    stalledFraction, parameters, offGridWeights, meterMillisPerStep, trainingSeconds, divergedAtStep,
                    null);
        }

        public double bitsPerByte() {
            return validationLoss / Math.log(2);
        }
    }

    private LmRun() {
    }

    /**
     * One training run. The seed decides the initial weights, the order of the batches and the rounding bits; every
     * strategy trained with the same seed starts from the same weights and sees the same batches.
     */
    static Result train(LmConfig c, ByteCorpus corpus, List<ByteCorpus.Batch> validation, PrecisionStrategy strategy,
                        double peakLr, long seed, Progress progress) {
        WarmupCosineSchedule schedule = new WarmupCosineSchedule(peakLr, c.floor * peakLr, c.warmup, c.steps);
        MultiLayerNetwork net = GptModel.build(c.shape(), strategy.optimisation(schedule, c.weightDecay, seed), seed);
        StagnationMeter meter = StagnationMeter.builder().logEvery(c.evalEvery).build();
        net.addListeners(meter);
        if (strategy.attaches()) {
            Strategies.attach(net, seed);
        }
        String name = strategy.id() + (c.lrMultipliers.size() > 1 ? " lr=" + peakLr : "")
                + (c.seeds > 1 ? " seed=" + seed : "");

        // Same seed for every strategy: the same batches in the same order.
        SplittableRandom data = new SplittableRandom(seed);
        List<Point> curve = new ArrayList<>();
        double validationLoss = validationLoss(net, validation);
        curve.add(new Point(0, schedule.valueAt(0, 0), Double.NaN, validationLoss, Double.NaN, Double.NaN));
        double trainSum = 0;
        int trainCount = 0;
        long trainNanos = 0;
        int divergedAt = 0;
        for (int step = 1; step <= c.steps; step++) {
            ByteCorpus.Batch batch = corpus.trainBatch(data, c.batch, c.length);
            // DL4J's score adds the regularisation term (0.5 * wd * |w|^2 for the FP32 run's WeightDecay), computed
            // from the weights before the step: take it out so that every strategy reports the data loss.
            double regularisation = net.calcRegularizationScore(true);
            long t0 = System.nanoTime();
            if (step == 1) {
                withoutSameDiffChatter(() -> net.fit(batch.features(), batch.labels()));
            } else {
                net.fit(batch.features(), batch.labels());
            }
            trainNanos += System.nanoTime() - t0;
            double trainLoss = (net.score() - regularisation) / c.length; // the score sums the loss over the sequence
            if (!(trainLoss <= DIVERGED_LOSS)) { // also true for NaN
                // Diverged: stop this run (the sweep goes on) and record where.
                divergedAt = step;
                validationLoss = Double.NaN;
                curve.add(new Point(step, schedule.valueAt(step - 1, 0), trainLoss, Double.NaN, Double.NaN,
                        Double.NaN));
                progress.skip(c.steps - step + 1);
                progress.note(String.format(Locale.ROOT, "[%s] diverged at step %d (training loss %s)",
                        name, step, trainLoss));
                break;
            }
            trainSum += trainLoss;
            trainCount++;
            if (step % c.evalEvery == 0 || step == c.steps) {
                validationLoss = validationLoss(net, validation);
                if (!Double.isFinite(validationLoss)) {
                    divergedAt = step;
                }
                StagnationReport r = meter.getLastReport();
                curve.add(new Point(step, schedule.valueAt(step - 1, 0), trainSum / trainCount, validationLoss,
                        r == null ? Double.NaN : r.overall().stalledFraction(),
                        r == null ? Double.NaN : r.overall().relativeUpdate()));
                trainSum = 0;
                trainCount = 0;
                if (divergedAt > 0) {
                    progress.skip(c.steps - step + 1);
                    progress.note("[" + name + "] diverged at step " + step + " (validation loss " + validationLoss + ")");
                    break;
                }
            }
            progress.step(name, step, c.steps, trainLoss, validationLoss, tokens(c, step) / (trainNanos / 1e9));
        }
        StagnationReport last = meter.getLastReport();
        int stepsDone = divergedAt > 0 ? divergedAt : c.steps;
        return new Result(strategy, peakLr, seed, curve, divergedAt > 0 ? Double.NaN : validationLoss,
                tokens(c, stepsDone) / (trainNanos / 1e9), TrainingMemory.of(net).bytesPerParameter(),
                last == null ? Double.NaN : last.overall().stalledFraction(), net.numParams(),
                Bf16Grid.countOffGrid(net.params()), meter.getOverheadNanos() / 1e6 / stepsDone, trainNanos / 1e9,
                divergedAt, net);
    }

    private static double tokens(LmConfig c, int steps) {
        return (double) steps * c.batch * c.length;
    }

    /** Mean cross-entropy (nats per byte) of the next byte over the fixed validation windows. */
    static double validationLoss(MultiLayerNetwork net, List<ByteCorpus.Batch> validation) {
        double sum = 0;
        long count = 0;
        for (ByteCorpus.Batch b : validation) {
            INDArray probabilities = net.output(b.features(), false);
            INDArray target = probabilities.mul(b.labels()).sum(1); // [batch, length]: probability of the true byte
            sum -= Transforms.log(Transforms.max(target, 1e-30), false).sumNumber().doubleValue();
            count += target.length();
        }
        return sum / count;
    }

    /**
     * DL4J 1.0.0-M2.1's SameDiff prints one "Added differentiated op ..." line per op to System.out when a SameDiff
     * layer builds its gradient graph (first training step); drop those lines and keep everything else.
     */
    private static void withoutSameDiffChatter(Runnable r) {
        PrintStream original = System.out;
        PrintStream filtered = new PrintStream(new OutputStream() {
            private final StringBuilder line = new StringBuilder();

            @Override
            public void write(int b) {
                if (b == '\n') {
                    String s = line.toString();
                    line.setLength(0);
                    if (!s.startsWith("Added differentiated op")) {
                        original.println(s);
                    }
                } else {
                    line.append((char) b);
                }
            }
        }, true, StandardCharsets.ISO_8859_1);
        System.setOut(filtered);
        try {
            r.run();
        } finally {
            System.out.flush();
            System.setOut(original);
        }
    }
}
