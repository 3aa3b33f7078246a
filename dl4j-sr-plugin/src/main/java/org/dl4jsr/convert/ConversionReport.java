package org.dl4jsr.convert;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What a conversion changed, layer by layer, and what it left alone and why. */
public final class ConversionReport {
    private final List<String> changed = new ArrayList<>();
    private final List<String> leftAlone = new ArrayList<>();

    void changed(String layer, String what) {
        changed.add(layer + ": " + what);
    }

    void leftAlone(String layer, String why) {
        leftAlone.add(layer + ": " + why);
    }

    /** One line per change ("layer: updater Adam -> AdamWSR", "layer: activation tanh computed in FP32", ...). */
    public List<String> getChanged() {
        return Collections.unmodifiableList(changed);
    }

    /** One line per layer or parameter group left alone (frozen layers, NoOp updaters, batch-norm statistics). */
    public List<String> getLeftAlone() {
        return Collections.unmodifiableList(leftAlone);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Changed:\n");
        changed.forEach(s -> b.append("  ").append(s).append('\n'));
        b.append("Left alone:\n");
        leftAlone.forEach(s -> b.append("  ").append(s).append('\n'));
        return b.toString();
    }
}
