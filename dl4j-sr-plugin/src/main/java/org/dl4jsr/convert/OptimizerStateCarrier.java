package org.dl4jsr.convert;

import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.dl4jsr.kernel.Kernels;
import org.dl4jsr.network.Network;
import org.dl4jsr.rounding.CounterRng;
import org.dl4jsr.rounding.RoundingStreams;
import org.dl4jsr.training.AdamWSRUpdater;
import org.dl4jsr.training.WrappedGradientUpdater;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.NoOpUpdater;

/**
 * The optimizer-state part of a conversion: each updater block's state carried from the source network to the
 * converted one, block by block (the rewritten configuration gives both networks the same block layout). DL4J's Adam
 * moments are rounded into AdamWSR's storage (keyed on (seed, iteration, CONVERT_FIRST_MOMENT / CONVERT_SECOND_MOMENT))
 * and widened back; an FP32 master copy or a Kahan compensation goes with the weights; a DL4J updater on both sides
 * keeps its state as it is.
 */
final class OptimizerStateCarrier {
    private OptimizerStateCarrier() {
    }

    /** Carries each updater block's state from {@code from} to {@code to} (initialised, same block layout). */
    static void carry(Network from, Network to, long seed, Kernels kernels, int iteration) {
        BaseMultiLayerUpdater<?> source = from.updaterIfExists();
        BaseMultiLayerUpdater<?> dest = to.updater();
        if (source == null) {
            return; // never trained: the new updater starts fresh like the old one would have
        }
        Map<Long, UpdaterBlock> sourceBlocks = new HashMap<>();
        for (Object b : source.getUpdaterBlocks()) {
            sourceBlocks.put((long) ((UpdaterBlock) b).getParamOffsetStart(), (UpdaterBlock) b);
        }
        for (Object b : dest.getUpdaterBlocks()) {
            UpdaterBlock nb = (UpdaterBlock) b;
            UpdaterBlock ob = sourceBlocks.get((long) nb.getParamOffsetStart());
            if (ob == null || ob.getParamOffsetEnd() != nb.getParamOffsetEnd()) {
                throw new IllegalStateException("Updater blocks of the converted network differ from the source's at"
                        + " parameter offset " + nb.getParamOffsetStart() + "; cannot carry the optimizer state over");
            }
            carryBlock(from, to, ob, nb, seed, kernels, iteration);
        }
    }

    private static void carryBlock(Network from, Network to, UpdaterBlock ob, UpdaterBlock nb, long seed,
                                   Kernels kernels, int iteration) {
        GradientUpdater<?> oldUpdater = unwrap(ob.getGradientUpdater());
        GradientUpdater<?> newUpdater = nb.getGradientUpdater();
        long start = nb.getParamOffsetStart();
        long end = nb.getParamOffsetEnd();
        if (newUpdater instanceof NoOpUpdater) {
            return;
        }
        // Neither network need be attached: tell AdamWSR updaters their block's size (a KAHAN layout needs it).
        for (GradientUpdater<?> u : new GradientUpdater<?>[] {oldUpdater, newUpdater}) {
            if (u instanceof AdamWSRUpdater) {
                ((AdamWSRUpdater) u).useBlockLength(end - start);
            }
        }
        if (newUpdater instanceof AdamWSRUpdater) {
            AdamWSRUpdater sr = (AdamWSRUpdater) newUpdater;
            if (sr.hasCompensation() && oldUpdater instanceof AdamWSRUpdater
                    && ((AdamWSRUpdater) oldUpdater).hasCompensation()) {
                sr.setCompensation(((AdamWSRUpdater) oldUpdater).compensation()); // same weights, same compensation
            }
            INDArray[] mv = adamMoments(oldUpdater, ob.getUpdaterView());
            sr.setMoments(mv[0], mv[1], kernels, CounterRng.key(seed, iteration, RoundingStreams.CONVERT_FIRST_MOMENT),
                    CounterRng.key(seed, iteration, RoundingStreams.CONVERT_SECOND_MOMENT), start);
            if (sr.hasMaster()) {
                sr.setMaster(oldUpdater instanceof AdamWSRUpdater && ((AdamWSRUpdater) oldUpdater).hasMaster()
                        ? ((AdamWSRUpdater) oldUpdater).masterCopy() : slice(from.params(), start, end).castTo(DataType.FLOAT));
            }
            return;
        }
        if (newUpdater instanceof AdamUpdater && oldUpdater instanceof AdamWSRUpdater) {
            AdamWSRUpdater sr = (AdamWSRUpdater) oldUpdater;
            INDArray[] mv = sr.moments();
            INDArray view = nb.getUpdaterView().reshape(nb.getUpdaterView().length());
            long n = end - start;
            view.get(NDArrayIndex.interval(0, n)).assign(mv[0]);
            view.get(NDArrayIndex.interval(n, 2 * n)).assign(mv[1]);
            if (sr.hasMaster()) {
                slice(to.params(), start, end).assign(sr.masterCopy()); // the FP32 master is the true weight
            }
            if (sr.hasCompensation()) {
                INDArray w = slice(to.params(), start, end);
                w.assign(w.add(sr.compensation().reshape(w.shape()))); // w + c in FP32: what the weight holds
            }
            return;
        }
        if (nb.getUpdaterView() != null) {
            nb.getUpdaterView().assign(ob.getUpdaterView()); // the same DL4J updater on both sides
        }
    }

    private static GradientUpdater<?> unwrap(GradientUpdater<?> u) {
        return u instanceof WrappedGradientUpdater ? ((WrappedGradientUpdater) u).inner() : u;
    }

    /** FP32 m and v of DL4J's Adam or AdamWSR. */
    private static INDArray[] adamMoments(GradientUpdater<?> u, INDArray view) {
        if (u instanceof AdamWSRUpdater) {
            return ((AdamWSRUpdater) u).moments();
        }
        if (u instanceof AdamUpdater) {
            INDArray flat = view.reshape(view.length());
            long n = flat.length() / 2;
            return new INDArray[] {flat.get(NDArrayIndex.interval(0, n)).castTo(DataType.FLOAT),
                flat.get(NDArrayIndex.interval(n, 2 * n)).castTo(DataType.FLOAT)};
        }
        throw new IllegalStateException("Cannot read Adam moments from " + u.getClass().getSimpleName());
    }

    private static INDArray slice(INDArray flat, long start, long end) {
        return flat.reshape(flat.length()).get(NDArrayIndex.interval(start, end));
    }
}
