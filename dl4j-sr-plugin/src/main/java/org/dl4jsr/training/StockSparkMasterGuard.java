package org.dl4jsr.training;

import java.io.NotSerializableException;
import java.util.Optional;

/**
 * Stops DL4J's own Spark training masters from training a network configured for BF16 stochastic rounding, on the
 * driver, before any worker runs. Both masters ({@code ParameterAveragingTrainingMaster},
 * {@code SharedTrainingMaster}) Java-serialise the network configuration into their broadcast in
 * {@code getWorkerInstance}; their workers rebuild the network from it, where the plugin cannot attach (the
 * parameter-averaging master would also average compact state's packed bit patterns as numbers). Every other use of
 * Java serialisation (DL4J's Spark inference sends JSON; closures, caches) is left alone.
 */
public final class StockSparkMasterGuard {
    private StockSparkMasterGuard() {
    }

    /** Called from the serialisation hook of the plugin's updater configurations. */
    public static void refuseStockSparkMaster(Object config) throws NotSerializableException {
        Optional<String> master = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> f.getClassName().startsWith("org.deeplearning4j.spark.")
                        && f.getMethodName().equals("getWorkerInstance"))
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1))
                .findFirst());
        if (master.isPresent()) {
            throw new NotSerializableException("DL4J's " + master.get() + " cannot train a network configured for"
                    + " BF16 stochastic rounding (" + config + "): its workers rebuild the network from the"
                    + " configuration and cannot attach the plugin, and it averages optimizer state as plain numbers."
                    + " Train with org.dl4jsr.spark.Bf16ParameterAveragingTrainingMaster. Gradient sharing"
                    + " (SharedTrainingMaster) is not supported: DL4J 1.0.0-M2's SharedTrainingWrapper can deadlock"
                    + " (see README, Distributed training on Spark). Nothing was trained.");
        }
    }
}
