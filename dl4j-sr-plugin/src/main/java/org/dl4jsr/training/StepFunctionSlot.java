package org.dl4jsr.training;

import java.lang.reflect.Field;
import org.deeplearning4j.optimize.api.ConvexOptimizer;
import org.deeplearning4j.optimize.api.StepFunction;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.deeplearning4j.optimize.solvers.StochasticGradientDescent;

/**
 * The optimizer's step function slot. DL4J cannot be configured with a custom step function
 * ({@code StepFunctions.createStepFunction} knows only its own four), so the plugin sets BaseOptimizer's protected
 * {@code stepFunction} field by reflection; this is the one place that does.
 */
final class StepFunctionSlot {
    private static final Field FIELD = field();

    private StepFunctionSlot() {
    }

    private static Field field() {
        try {
            Field f = BaseOptimizer.class.getDeclaredField("stepFunction");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError("DL4J's BaseOptimizer has no stepFunction field: unsupported version");
        }
    }

    static void install(ConvexOptimizer optimizer, StepFunction stepFunction) {
        if (!(optimizer instanceof StochasticGradientDescent)) {
            throw new IllegalStateException("Expected DL4J's StochasticGradientDescent optimizer, got " + optimizer);
        }
        try {
            FIELD.set(optimizer, stepFunction);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("Cannot install the BF16 step function", e);
        }
    }

    /** The optimizer's step function, or null when there is no optimizer yet. */
    static StepFunction current(ConvexOptimizer optimizer) {
        if (!(optimizer instanceof BaseOptimizer)) {
            return null;
        }
        try {
            return (StepFunction) FIELD.get(optimizer);
        } catch (IllegalAccessException e) {
            return null;
        }
    }
}
