package org.dl4jsr.averaging;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the values of one flat array (a network's parameters or its updater state) are stored, so that they can travel
 * between driver and workers in their BF16 form and be averaged value by value.
 *
 * <p>The array is cut into segments of one {@link Kind} each:
 * <ul>
 * <li>{@link Kind#GRID}: FP32 values on the BF16 grid (SR weights, AdamWSR moments, everything of a BFLOAT16
 * network): 2 bytes each on the wire, one value each when averaged, rounded back onto the grid;</li>
 * <li>{@link Kind#PACKED}: AdamWSR compact state, m and v as the high and low BF16 halves of one 32-bit slot: 4 bytes
 * per slot on the wire, two values per slot when averaged;</li>
 * <li>{@link Kind#FP32}: full-precision values (state of wrapped DL4J updaters, parameters DL4J updates itself such
 * as batch-norm statistics): 4 bytes on the wire, averaged and kept in FP32 as DL4J's own master does.</li>
 * </ul>
 * "Values" are numbered in array order, a packed slot contributing m then v; that number is the counter index of the
 * value's stochastic-rounding bits when averages are rounded.
 */
public final class WireLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Storage kind of a segment. */
    public enum Kind {
        GRID, PACKED, FP32
    }

    private final long[] starts;
    private final long[] lengths;
    private final Kind[] kinds;
    private final long[] valueStarts;
    /** Position of each segment's first element in the wire form: among the BF16 halves, or among the FP32 values. */
    private final long[] wireStarts;
    private final long length;

    private WireLayout(List<long[]> ranges, List<Kind> kinds, long length) {
        this.starts = new long[ranges.size()];
        this.lengths = new long[ranges.size()];
        this.valueStarts = new long[ranges.size()];
        this.wireStarts = new long[ranges.size()];
        this.kinds = kinds.toArray(new Kind[0]);
        long values = 0;
        long halves = 0;
        long fp32 = 0;
        for (int i = 0; i < starts.length; i++) {
            starts[i] = ranges.get(i)[0];
            lengths[i] = ranges.get(i)[1];
            valueStarts[i] = values;
            wireStarts[i] = this.kinds[i] == Kind.FP32 ? fp32 : halves;
            long n = perElement(this.kinds[i]) * lengths[i];
            values += n;
            if (this.kinds[i] == Kind.FP32) {
                fp32 += n;
            } else {
                halves += n;
            }
        }
        this.length = length;
    }

    /** Values (and wire slots) per element: two for PACKED (m and v), one otherwise. */
    private static int perElement(Kind kind) {
        return kind == Kind.PACKED ? 2 : 1;
    }

    public static Builder builder(long length) {
        return new Builder(length);
    }

    /** Number of elements of the array. */
    public long length() {
        return length;
    }

    public int segments() {
        return kinds.length;
    }

    public long start(int segment) {
        return starts[segment];
    }

    public long length(int segment) {
        return lengths[segment];
    }

    public Kind kind(int segment) {
        return kinds[segment];
    }

    /** The number of the first value of a segment (values are numbered in array order, two per PACKED slot). */
    public long valueStart(int segment) {
        return valueStarts[segment];
    }

    /** The segment holding element {@code i} (0 <= i < length). */
    public int segmentOf(long i) {
        int found = Arrays.binarySearch(starts, i);
        return found >= 0 ? found : -found - 2;
    }

    /**
     * The one traversal of the layout: calls {@code visitor} for the piece of every segment that lies in elements
     * [from, to), in array order, with the method of the segment's kind.
     */
    void forEachPart(long from, long to, SegmentVisitor visitor) {
        if (from >= to) {
            return;
        }
        for (int s = segmentOf(from); s < kinds.length && starts[s] < to; s++) {
            long start = Math.max(from, starts[s]);
            long skipped = (start - starts[s]) * perElement(kinds[s]);
            SegmentVisitor.Part part = new SegmentVisitor.Part((int) start,
                    (int) Math.min(to, starts[s] + lengths[s]), (int) (valueStarts[s] + skipped),
                    (int) (wireStarts[s] + skipped));
            switch (kinds[s]) {
                case GRID -> visitor.grid(part);
                case PACKED -> visitor.packed(part);
                default -> visitor.fp32(part);
            }
        }
    }

    /** Elements of the given kind. */
    public long count(Kind kind) {
        long n = 0;
        for (int i = 0; i < kinds.length; i++) {
            n += kinds[i] == kind ? lengths[i] : 0;
        }
        return n;
    }

    /** Values averaged for this array: one per GRID or FP32 element, two per PACKED slot. */
    public long values() {
        return count(Kind.GRID) + 2 * count(Kind.PACKED) + count(Kind.FP32);
    }

    /** BF16 halves on the wire: one per GRID element, two per PACKED slot. */
    long halves() {
        return count(Kind.GRID) + 2 * count(Kind.PACKED);
    }

    @Override
    public String toString() {
        return "WireLayout(length=" + length + ", grid=" + count(Kind.GRID) + ", packed=" + count(Kind.PACKED)
                + ", fp32=" + count(Kind.FP32) + ", segments=" + kinds.length + ")";
    }

    /** Adds segments in array order; adjacent segments of one kind are merged; gaps become FP32. */
    public static final class Builder {
        private final long length;
        private final List<long[]> ranges = new ArrayList<>();
        private final List<Kind> kinds = new ArrayList<>();
        private long end;

        private Builder(long length) {
            if (length < 0) {
                throw new IllegalArgumentException("length must be >= 0, got " + length);
            }
            this.length = length;
        }

        public Builder add(long start, long n, Kind kind) {
            if (start < end || n < 0 || start + n > length) {
                throw new IllegalArgumentException("Segment [" + start + ", " + (start + n) + ") overlaps an earlier one"
                        + " or lies outside [0, " + length + ")");
            }
            if (start > end) {
                append(end, start - end, Kind.FP32);
            }
            append(start, n, kind);
            return this;
        }

        private void append(long start, long n, Kind kind) {
            if (n == 0) {
                return;
            }
            int last = kinds.size() - 1;
            if (last >= 0 && kinds.get(last) == kind) {
                ranges.get(last)[1] += n;
            } else {
                ranges.add(new long[] {start, n});
                kinds.add(kind);
            }
            end = start + n;
        }

        public WireLayout build() {
            if (end < length) {
                append(end, length - end, Kind.FP32);
            }
            return new WireLayout(ranges, kinds, length);
        }
    }
}
