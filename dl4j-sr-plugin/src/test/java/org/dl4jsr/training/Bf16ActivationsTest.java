package org.dl4jsr.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;

/**
 * The table of {@link Bf16Activations} against the backend: every built-in activation is tried in BF16 (libnd4j prints
 * its errors for the rejected ones here, in the test, which is the point of the table: the plugin's calls do not), and
 * the set that works must be exactly the table. Also: the table is found for an activation read back from JSON (the
 * lookup is by equals, so a network loaded from a file does not try the backend either).
 */
class Bf16ActivationsTest {
    @Test
    void tableMatchesTheBackend() {
        Set<Activation> works = EnumSet.noneOf(Activation.class);
        for (Activation a : Activation.values()) {
            IActivation instance = Bf16Activations.defaultInstance(a);
            if (instance != null && Bf16Activations.tryInBf16(instance)) {
                works.add(a);
            }
        }
        assertEquals(Bf16Activations.CPU_BF16_BACKPROP, works, "Bf16Activations.CPU_BF16_BACKPROP is out of date for"
                + " this backend: it must list exactly the activations that back-propagate in BF16");
    }

    /** The classes answered whatever their parameters: tried with other parameters, the backend agrees. */
    @Test
    void classAnswersHoldForOtherParameters() {
        for (double alpha : new double[] {0.1, 0.2, 0.3}) {
            assertEquals(Bf16Activations.CPU_BY_CLASS.get(org.nd4j.linalg.activations.impl.ActivationLReLU.class),
                    Bf16Activations.tryInBf16(new org.nd4j.linalg.activations.impl.ActivationLReLU(alpha)),
                    "LeakyReLU alpha " + alpha);
        }
    }

    @Test
    void tableIsFoundForActivationsReadFromJson() throws Exception {
        ObjectMapper json = NeuralNetConfiguration.mapper();
        List<String> missed = new ArrayList<>();
        long before = Bf16Activations.timesTried();
        for (Activation a : Activation.values()) {
            IActivation instance = Bf16Activations.defaultInstance(a);
            if (instance == null) {
                continue;
            }
            IActivation copy = json.readValue(json.writeValueAsString(instance), IActivation.class);
            boolean expected = Bf16Activations.CPU_BF16_BACKPROP.contains(a);
            if (Bf16Activations.backpropagatesInBf16(copy) != expected) {
                missed.add(a.name());
            }
        }
        assertEquals(List.of(), missed, "answers that differ from the table");
        assertEquals(before, Bf16Activations.timesTried(), "an activation read from JSON was tried on the backend");
    }
}
