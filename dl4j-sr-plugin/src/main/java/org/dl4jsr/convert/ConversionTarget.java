package org.dl4jsr.convert;

/** What a conversion produces: the three entry points of {@link Bf16Converter}. */
enum ConversionTarget {
    /** A FLOAT network with its trainable weights on the BF16 grid, attached ({@link Bf16Converter#toBf16Grid}). */
    BF16_GRID,
    /** A true BFLOAT16 network, attached ({@link Bf16Converter#toBfloat16}). */
    BFLOAT16,
    /** A plain DL4J FLOAT network, loadable without the plugin ({@link Bf16Converter#toFp32}). */
    FP32
}
