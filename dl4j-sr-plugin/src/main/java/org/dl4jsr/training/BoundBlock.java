package org.dl4jsr.training;

/**
 * One updater block of an attached network, as bound: DL4J's name for its parameters, their range [start, end) in
 * the network's flat parameter array, and the plugin's updater that owns them. The updater is null for a NoOp block
 * (frozen layers, batch-norm statistics): DL4J's own update is applied to it unchanged.
 */
record BoundBlock(String name, long start, long end, SrGradientUpdater<?> updater) {

    boolean isNoOp() {
        return updater == null;
    }
}
