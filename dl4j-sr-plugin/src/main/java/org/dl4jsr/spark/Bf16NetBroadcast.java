package org.dl4jsr.spark;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicInteger;
import org.dl4jsr.averaging.WireArray;
import org.dl4jsr.averaging.WireLayout;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * What the driver broadcasts to the workers at the start of an averaging round: the configuration as JSON (the plugin's
 * updater configurations travel as DL4J serialises them), the parameters and the updater state in their wire form.
 */
final class Bf16NetBroadcast implements Serializable {
    private static final long serialVersionUID = 1L;

    final String configJson;
    final boolean graph;
    final DataType dataType;
    final WireLayout paramLayout;
    final WireArray params;
    /** Null when the network keeps no updater state. */
    final WireLayout stateLayout;
    final WireArray state;
    /** Numbers the workers of one JVM for listeners (as DL4J's NetBroadcastTuple does). */
    final AtomicInteger counter = new AtomicInteger();

    Bf16NetBroadcast(String configJson, boolean graph, DataType dataType, WireLayout paramLayout, WireArray params,
                     WireLayout stateLayout, WireArray state) {
        this.configJson = configJson;
        this.graph = graph;
        this.dataType = dataType;
        this.paramLayout = paramLayout;
        this.params = params;
        this.stateLayout = stateLayout;
        this.state = state;
    }
}
