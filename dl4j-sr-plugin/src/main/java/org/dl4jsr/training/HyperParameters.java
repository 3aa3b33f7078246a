package org.dl4jsr.training;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Checks the hyper-parameters of any updater configuration, DL4J's or the plugin's, without knowing its class: every
 * {@code double}/{@code float} field must be finite and a learning rate must not be negative (checked once, at
 * attach); every schedule ({@link ISchedule} field) and the learning rate must give a finite, non-negative learning
 * rate and finite other values at the step's iteration (checked at each step, before anything changes). A NaN
 * learning rate or momentum would otherwise turn every weight into NaN, and a negative learning rate would silently
 * ascend the gradient.
 */
final class HyperParameters {
    private static final ClassValue<List<Field>> NUMBERS = new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
            return fields(type, f -> f.getType() == double.class || f.getType() == float.class);
        }
    };
    private static final ClassValue<List<Field>> SCHEDULES = new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
            return fields(type, f -> ISchedule.class.isAssignableFrom(f.getType()));
        }
    };

    private HyperParameters() {
    }

    private interface FieldFilter {
        boolean accept(Field f);
    }

    private static List<Field> fields(Class<?> type, FieldFilter filter) {
        List<Field> out = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers()) && filter.accept(f)) {
                    f.setAccessible(true);
                    out.add(f);
                }
            }
        }
        return out;
    }

    private static boolean isLearningRate(String name) {
        return name.toLowerCase().contains("learningrate");
    }

    /**
     * What is wrong with the fixed values of {@code config}, or null. A value replaced by a schedule (DL4J sets
     * {@code learningRate} to NaN when {@code learningRateSchedule} is given) is checked at each step instead.
     */
    static String staticProblem(IUpdater config) {
        for (Field f : NUMBERS.get(config.getClass())) {
            if (scheduled(f.getName(), config)) {
                continue;
            }
            double value = read(f, config);
            if (!Double.isFinite(value)) {
                return f.getName() + " is " + value;
            }
            if (value < 0 && isLearningRate(f.getName())) {
                return f.getName() + " is negative (" + value + "): that would ascend the gradient";
            }
        }
        return null;
    }

    private static boolean scheduled(String field, IUpdater config) {
        for (Field s : SCHEDULES.get(config.getClass())) {
            if (s.getName().startsWith(field) && readObject(s, config) != null) {
                return true;
            }
        }
        return false;
    }

    /** What is wrong with the values {@code config} gives at this iteration (learning rate, schedules), or null. */
    static String stepProblem(IUpdater config, int iteration, int epoch) {
        if (config.hasLearningRate()) {
            double lr = config.getLearningRate(iteration, epoch);
            if (!(lr >= 0 && Double.isFinite(lr))) {
                return "learning rate is " + lr + (lr < 0 ? " (negative: that would ascend the gradient)" : "");
            }
        }
        for (Field f : SCHEDULES.get(config.getClass())) {
            ISchedule schedule = (ISchedule) readObject(f, config);
            if (schedule != null) {
                double v = schedule.valueAt(iteration, epoch);
                if (!Double.isFinite(v) || (v < 0 && isLearningRate(f.getName()))) {
                    return f.getName() + " " + schedule + " gives " + v;
                }
            }
        }
        return null;
    }

    private static double read(Field f, Object o) {
        try {
            return f.getType() == float.class ? f.getFloat(o) : f.getDouble(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object readObject(Field f, Object o) {
        try {
            return f.get(o);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
