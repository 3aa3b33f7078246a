package org.dl4jsr.convert;

import org.dl4jsr.Bf16Attachment;
import org.deeplearning4j.nn.api.Model;

/** A converted network, its conversion report, and its attachment (null for FP32 results, which are plain DL4J). */
public final class ConversionResult<T extends Model> {
    private final T network;
    private final ConversionReport report;
    private final Bf16Attachment attachment;

    ConversionResult(T network, ConversionReport report, Bf16Attachment attachment) {
        this.network = network;
        this.report = report;
        this.attachment = attachment;
    }

    public T getNetwork() {
        return network;
    }

    public ConversionReport getReport() {
        return report;
    }

    public Bf16Attachment getAttachment() {
        return attachment;
    }
}
