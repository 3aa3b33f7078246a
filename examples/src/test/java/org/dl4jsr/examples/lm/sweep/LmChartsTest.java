package org.dl4jsr.examples.lm.sweep;

import org.dl4jsr.examples.lm.PrecisionStrategy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jfree.chart.axis.NumberTick;
import org.junit.jupiter.api.Test;

/** The seeds chart's x axis: one tick per trained rate, every label different and exact. */
class LmChartsTest {
    @Test
    void ticksAreTheTrainedRates() {
        List<Double> multipliers = List.of(0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0);
        List<NumberTick> ticks = new LmCharts.TrainedRatesAxis(2e-3, multipliers).ticks();
        assertEquals(List.of("0.001 (0.5x)", "0.002 (1x)", "0.004 (2x)", "0.008 (4x)", "0.016 (8x)", "0.032 (16x)",
                "0.064 (32x)"), ticks.stream().map(NumberTick::getText).toList());
        for (int i = 0; i < ticks.size(); i++) {
            assertEquals(2e-3 * multipliers.get(i), ticks.get(i).getValue(), 0);
        }
        // close rates keep enough digits to differ
        List<NumberTick> close = new LmCharts.TrainedRatesAxis(1e-3, List.of(0.9, 1.0, 1.1, 1.25)).ticks();
        assertEquals(List.of("0.0009 (0.9x)", "0.001 (1x)", "0.0011 (1.1x)", "0.00125 (1.25x)"),
                close.stream().map(NumberTick::getText).toList());
    }
}
