package org.dl4jsr.training;

/** Thrown (with {@link org.dl4jsr.NonFiniteGradients#THROW}) when a step's gradient holds NaN or infinity. */
public final class NonFiniteGradientException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    public NonFiniteGradientException(String message) {
        super(message);
    }
}
