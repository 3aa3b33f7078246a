package org.dl4jsr.averaging;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.network.FrozenParameters;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.Rounding;
import org.dl4jsr.training.AdamWConfig;
import org.dl4jsr.training.AdamWStateLayout;
import org.dl4jsr.training.StochasticRoundingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

/**
 * The {@link WireLayout}s of an attached network's parameters and updater state, read from its updater blocks, and the
 * check that a network can be averaged by the Spark master ({@code spark.Bf16ParameterAveragingTrainingMaster}) or
 * ParallelWrapper ({@code parallel.Bf16ParallelWrapper}).
 */
public final class WireLayouts {
    private WireLayouts() {
    }

    /** SR blocks hold their weights on the grid; NoOp and frozen parameters stay FP32 (DL4J updates them itself). */
    public static WireLayout params(Network net) {
        boolean bf16 = net.dataType() == DataType.BFLOAT16;
        WireLayout.Builder b = WireLayout.builder(net.params().length());
        for (UpdaterBlock ub : net.updaterBlocks()) {
            long start = ub.getParamOffsetStart();
            long n = ub.getParamOffsetEnd() - start;
            IUpdater u = config(ub);
            boolean grid = bf16 || u instanceof StochasticRoundingConfig
                    && ((StochasticRoundingConfig) u).getWeightRounding() != Rounding.NONE;
            if (grid && !bf16) {
                // frozen parameters inside an SR block keep their FP32 values (gaps are FP32)
                for (long[] r : FrozenParameters.trainableRanges(ub)) {
                    b.add(r[0], r[1] - r[0], WireLayout.Kind.GRID);
                }
            } else {
                b.add(start, n, grid ? WireLayout.Kind.GRID : WireLayout.Kind.FP32);
            }
        }
        return b.build();
    }

    /** AdamWSR moments are on the grid (or packed); other updaters' state is FP32 on a FLOAT network. Null: no state. */
    public static WireLayout state(Network net) {
        if (net.updaterState() == null) {
            return null;
        }
        boolean bf16 = net.dataType() == DataType.BFLOAT16;
        WireLayout.Builder b = WireLayout.builder(net.updaterState().length());
        for (UpdaterBlock ub : net.updaterBlocks()) {
            long start = ub.getUpdaterViewOffsetStart();
            long size = ub.getUpdaterViewOffsetEnd() - start;
            IUpdater u = config(ub);
            if (bf16) {
                b.add(start, size, WireLayout.Kind.GRID);
            } else if (u instanceof AdamWConfig) {
                AdamWConfig a = (AdamWConfig) u;
                AdamWStateLayout layout = AdamWStateLayout.of(a, ub.getParamOffsetEnd() - ub.getParamOffsetStart());
                WireLayout.Kind moments = layout.packed() ? WireLayout.Kind.PACKED
                        : a.getStateRounding() == Rounding.NONE ? WireLayout.Kind.FP32 : WireLayout.Kind.GRID;
                b.add(start + layout.momentsOffset(), layout.momentsLength(), moments);
                // an FP32 master copy, if any, follows as FP32 (gap filled by the builder)
            } else {
                b.add(start, size, WireLayout.Kind.FP32);
            }
        }
        return b.build();
    }

    /**
     * Refuses networks the BF16 master cannot average faithfully, naming the parameters and what to change. Called on
     * the attached driver network before anything is sent to the workers.
     */
    public static void validate(Network net) {
        List<String> problems = new ArrayList<>();
        for (UpdaterBlock ub : net.updaterBlocks()) {
            if (ub.getParamOffsetEnd() == ub.getParamOffsetStart()) {
                continue;
            }
            IUpdater u = config(ub);
            if (u instanceof NoOp) {
                continue; // frozen or DL4J-managed parameters: averaged in FP32 like DL4J does
            }
            String where = blockName(ub) + " (" + u + ")";
            if (!(u instanceof StochasticRoundingConfig)) {
                problems.add(where + ": updater is not rounded by the plugin; attach the network with"
                        + " Bf16Training.attach or configure the layer with AdamWSR / Bf16Rounded.wrap(...)");
                continue;
            }
            if (((StochasticRoundingConfig) u).getWeightRounding() == Rounding.KAHAN) {
                problems.add(where + ": weightRounding is KAHAN; each replica's weights then carry a BF16 compensation"
                        + " (what rounding to nearest threw away), and averaging replicas has no rule for it: averaging"
                        + " weights and compensations separately would round the sum twice and drop the pairing of each"
                        + " weight with its compensation. Train Kahan-compensated networks on one machine (fit), or use"
                        + " weightRounding(STOCHASTIC) (the default) with Spark or ParallelWrapper");
            } else if (((StochasticRoundingConfig) u).getWeightRounding() != Rounding.STOCHASTIC) {
                problems.add(where + ": weightRounding is " + ((StochasticRoundingConfig) u).getWeightRounding()
                        + ", but BF16 parameter averaging needs every trained weight rounded stochastically onto the"
                        + " BF16 grid; use weightRounding(STOCHASTIC) (the default)");
            }
            if (u instanceof AdamWConfig && ((AdamWConfig) u).isMasterWeights()) {
                problems.add(where + ": masterWeights(true) keeps FP32 master weights (the mixed-precision baseline),"
                        + " which BF16 parameter averaging does not support; train with masterWeights(false)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("This network cannot be trained with Bf16ParameterAveragingTrainingMaster"
                    + " (nothing was trained): " + String.join("; ", problems));
        }
    }

    private static IUpdater config(UpdaterBlock ub) {
        return (IUpdater) ub.getGradientUpdater().getConfig();
    }

    private static String blockName(UpdaterBlock ub) {
        return "parameters " + Network.blockName(ub);
    }
}
