package org.dl4jsr;

import org.dl4jsr.testing.TestNets;
import org.dl4jsr.rounding.Rounding;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Consumer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

class AdamWSRConfigTest {

    @Test
    void defaultsEqualDl4jAdam() {
        AdamWSR sr = new AdamWSR();
        Adam adam = new Adam();
        assertEquals(adam.getLearningRate(), sr.getLearningRate());
        assertEquals(adam.getBeta1(), sr.getBeta1());
        assertEquals(adam.getBeta2(), sr.getBeta2());
        assertEquals(adam.getEpsilon(), sr.getEpsilon());
        assertEquals(0.0, sr.getWeightDecay());
        assertEquals(Rounding.STOCHASTIC, sr.getWeightRounding());
        assertEquals(Rounding.STOCHASTIC, sr.getStateRounding());
        assertEquals(sr, AdamWSR.builder().build());
        assertEquals(adam.stateSize(1000), sr.stateSize(1000));
    }

    @Test
    void stateSizeFollowsTheStorageMode() {
        assertEquals(2000, AdamWSR.builder().build().stateSize(1000));
        assertEquals(1000, AdamWSR.builder().compactState(true).build().stateSize(1000));
        assertEquals(3000, AdamWSR.builder().masterWeights(true).build().stateSize(1000));
        assertEquals(2000, AdamWSR.builder().masterWeights(true).compactState(true).build().stateSize(1000));
    }

    private static AdamWSR everythingSet() {
        return AdamWSR.builder().learningRateSchedule(new ExponentialSchedule(ScheduleType.ITERATION, 0.01, 0.99))
                .beta1(0.8).beta2(0.99).epsilon(1e-6).weightDecay(0.05).seed(1234).weightRounding(Rounding.NEAREST)
                .stateRounding(Rounding.NEAREST).masterWeights(true).compactState(true).build();
    }

    @Test
    void jsonRoundTripThroughANetworkConfiguration() {
        for (IUpdater u : new IUpdater[] {everythingSet(), new AdamWSR(0.003),
            new Bf16Rounded(new Nesterovs(0.1, 0.9), Rounding.NEAREST, 99)}) {
            MultiLayerConfiguration conf = TestNets.irisMlpConf(u, 1, Activation.TANH);
            String json = conf.toJson();
            MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
            IUpdater restored = ((BaseLayer) back.getConf(0).getLayer()).getIUpdater();
            assertEquals(u, restored, json);
            assertEquals(u.hashCode(), restored.hashCode());
            assertEquals(json, back.toJson());
        }
    }

    @Test
    void equalsAndHashCodeCoverEveryField() {
        AdamWSR base = everythingSet();
        assertEquals(base, base.clone());
        assertEquals(base, base.toBuilder().build());
        for (AdamWSR other : new AdamWSR[] {
            base.toBuilder().learningRate(0.5).learningRateSchedule(null).build(),
            base.toBuilder().beta1(0.7).build(), base.toBuilder().beta2(0.9).build(),
            base.toBuilder().epsilon(1e-7).build(), base.toBuilder().weightDecay(0.01).build(),
            base.toBuilder().seed(1).build(), base.toBuilder().weightRounding(Rounding.STOCHASTIC).build(),
            base.toBuilder().stateRounding(Rounding.STOCHASTIC).build(), base.toBuilder().masterWeights(false).build(),
            base.toBuilder().compactState(false).build()}) {
            assertNotEquals(base, other);
            assertNotEquals(base.hashCode(), other.hashCode());
        }
    }

    @Test
    void toStringSaysWhereTheSeedComesFrom() {
        assertTrue(everythingSet().toString().contains("seed=1234"), everythingSet().toString());
        assertTrue(new AdamWSR(0.003).toString().contains("seed=(from attach options)"));
        assertTrue(Bf16Rounded.wrap(new Nesterovs(0.1, 0.9)).toString().contains("seed=(from attach options)"));
        assertTrue(new Bf16Rounded(new Nesterovs(0.1, 0.9), Rounding.NEAREST, 99).toString().contains("seed=99"));
    }

    private static void assertRejected(String parameter, Consumer<AdamWSR.Builder> setting) {
        AdamWSR.Builder b = AdamWSR.builder();
        setting.accept(b);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(parameter), e.getMessage());
    }

    @Test
    void invalidHyperParametersAreRejectedAtBuildTime() {
        assertRejected("learningRate", b -> b.learningRate(-1));
        assertRejected("learningRate", b -> b.learningRate(Double.NaN));
        assertRejected("beta1", b -> b.beta1(1.0));
        assertRejected("beta1", b -> b.beta1(-0.1));
        assertRejected("beta2", b -> b.beta2(1.5));
        assertRejected("epsilon", b -> b.epsilon(0));
        assertRejected("weightDecay", b -> b.weightDecay(-1e-4));
        assertRejected("weightRounding", b -> b.weightRounding(null));
        assertRejected("stateRounding", b -> b.compactState(true).stateRounding(Rounding.NONE));
        assertThrows(IllegalArgumentException.class, () -> new AdamWSR(-0.1));
    }

    @Test
    void bf16UpdaterRejectsWhatCannotBeWrapped() {
        assertThrows(IllegalArgumentException.class, () -> Bf16Rounded.wrap(new NoOp()));
        assertThrows(IllegalArgumentException.class, () -> Bf16Rounded.wrap(new AdamWSR()));
        assertThrows(IllegalArgumentException.class, () -> Bf16Rounded.wrap(null));
        assertThrows(IllegalArgumentException.class, () -> new Bf16Rounded(new Adam(), Rounding.NONE, 1));
        Bf16Rounded w = Bf16Rounded.wrap(new Adam(0.01));
        assertEquals(0.01, w.getLearningRate(0, 0));
        assertEquals(new Adam(0.01).stateSize(10), w.stateSize(10));
    }

    @Test
    void withSeedCopiesEverythingElse() {
        AdamWSR base = everythingSet();
        AdamWSR reseeded = base.withSeed(77);
        assertEquals(77L, reseeded.getExplicitSeed());
        assertEquals(1234L, base.getExplicitSeed(), "the original keeps its seed");
        assertEquals(base, reseeded.withSeed(1234));
        Bf16Rounded wrapped = new Bf16Rounded(new Nesterovs(0.1, 0.9), Rounding.NEAREST, 5);
        Bf16Rounded wrappedReseeded = wrapped.withSeed(6);
        assertEquals(6L, wrappedReseeded.getExplicitSeed());
        assertEquals(new Bf16Rounded(new Nesterovs(0.1, 0.9), Rounding.NEAREST, 6), wrappedReseeded);
        assertEquals(5L, wrapped.getExplicitSeed());
        assertEquals(7L, Bf16Rounded.wrap(new Adam(0.01)).withSeed(7).getExplicitSeed());
    }

    @Test
    void optionsAreEqualWhenEveryFieldIs() {
        Bf16Options base = Bf16Options.builder().seed(3).threads(1).weightRounding(Rounding.NEAREST)
                .initialRounding(Rounding.STOCHASTIC).nonFiniteGradients(NonFiniteGradients.THROW)
                .kernels(org.dl4jsr.kernel.KernelPath.PORTABLE).build();
        assertEquals(base, base.toBuilder().build());
        assertEquals(base.hashCode(), base.toBuilder().build().hashCode());
        assertEquals(Bf16Options.defaults(), Bf16Options.defaults());
        for (Bf16Options other : new Bf16Options[] {
            base.toBuilder().seed(4).build(), base.toBuilder().threads(2).build(),
            base.toBuilder().weightRounding(Rounding.STOCHASTIC).build(),
            base.toBuilder().initialRounding(Rounding.NEAREST).build(),
            base.toBuilder().nonFiniteGradients(NonFiniteGradients.SKIP_STEP).build(),
            base.toBuilder().kernels(org.dl4jsr.kernel.KernelPath.AUTO).build()}) {
            assertNotEquals(base, other);
        }
        // what the attach log line and toString show: every option, in the user's words
        assertEquals("Bf16Options(initialRounding=STOCHASTIC, weightRounding=NEAREST, seed=3, threads=1,"
                + " kernels=PORTABLE, nonFiniteGradients=THROW)", base.toString());
    }

    @Test
    void anAttachedNetworkReportsTheOptionsItWasAttachedWith() {
        Bf16Options options = Bf16Options.builder().seed(11).threads(1).nonFiniteGradients(NonFiniteGradients.THROW)
                .build();
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = TestNets.irisMlp(new AdamWSR(0.01), 5);
        Bf16Attachment attachment = Bf16Training.attach(net, options);
        assertEquals(options, attachment.getOptions());
        assertEquals(options, Bf16Attachment.installedOn(net).getOptions());
    }
}
