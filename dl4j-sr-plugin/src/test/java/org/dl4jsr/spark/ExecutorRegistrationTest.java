package org.dl4jsr.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The wait for the first executor, without Spark (a real standalone cluster and local mode are tested in the
 * integration tests, ClusterExecutorLossTest), and the builder option that sets it.
 */
class ExecutorRegistrationTest {

    @Test
    void returnsAsSoonAsAnExecutorIsThere() {
        AtomicInteger polls = new AtomicInteger();
        // none at the first two polls, one from the third on
        ExecutorRegistration.await(() -> polls.incrementAndGet() >= 3 ? 1 : 0, Duration.ofMinutes(1), 1, () -> { },
                () -> "unused");
        assertEquals(3, polls.get());
    }

    @Test
    void failsWithTheGivenMessageWhenTimeIsUp() {
        long start = System.nanoTime();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ExecutorRegistration.await(() -> 0,
                Duration.ofMillis(300), 10, () -> { }, () -> "look at the executors' stderr"));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals("look at the executors' stderr", e.getMessage());
        assertTrue(seconds >= 0.3, "gave up after " + seconds + " s, before the timeout");
    }

    @Test
    void stopsWaitingWhenTheContextDies() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ExecutorRegistration.await(() -> 0,
                Duration.ofMinutes(10), 10, () -> {
                    throw new IllegalStateException("stopped");
                }, () -> "timeout"));
        assertEquals("stopped", e.getMessage());
    }

    @Test
    void builderDefaultRefusalsAndJson() {
        assertEquals(Duration.ofMinutes(3), new Bf16ParameterAveragingTrainingMaster.Builder(4).build()
                .getExecutorRegistrationTimeout());
        Bf16ParameterAveragingTrainingMaster tm = new Bf16ParameterAveragingTrainingMaster.Builder(4)
                .executorRegistrationTimeout(Duration.ofSeconds(42)).build();
        String json = tm.toJson();
        Bf16ParameterAveragingTrainingMaster back = Bf16ParameterAveragingTrainingMaster.fromJson(json);
        assertEquals(Duration.ofSeconds(42), back.getExecutorRegistrationTimeout());
        assertEquals(json, back.toJson());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).executorRegistrationTimeout(
                        Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().contains("Duration.ZERO: no check"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Bf16ParameterAveragingTrainingMaster.Builder(4).executorRegistrationTimeout(null));
    }
}
