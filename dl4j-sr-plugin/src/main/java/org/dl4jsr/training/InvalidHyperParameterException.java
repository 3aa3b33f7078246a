package org.dl4jsr.training;

/**
 * Thrown (with {@code NonFiniteGradients.THROW}) when a step's learning rate or another scheduled hyper-parameter is
 * NaN, infinite or a negative learning rate. Nothing has changed when it is thrown.
 */
public final class InvalidHyperParameterException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public InvalidHyperParameterException(String message) {
        super(message);
    }
}
