package org.dl4jsr.averaging;

/**
 * What one pass does to the elements of each segment kind of a {@link WireLayout}. {@link WireLayout#forEachPart} is
 * the one traversal of a layout: it cuts a range of elements into pieces of one segment each, in array order, and
 * calls the method of the piece's kind. A pass (encode, decode, sum, average) writes one loop per kind and never walks
 * segments itself; the dispatch costs one call per piece, never one per element.
 */
interface SegmentVisitor {
    void grid(Part p);

    void packed(Part p);

    void fp32(Part p);

    /**
     * Elements [start, end) of one segment. {@code value}: the number of the first element's first value (values are
     * numbered in array order, two per PACKED element, see {@link WireLayout}). {@code wire}: the first element's
     * position in the wire form: among the BF16 halves for GRID and PACKED (two per PACKED element), among the FP32
     * values for FP32.
     */
    record Part(int start, int end, int value, int wire) {
        int length() {
            return end - start;
        }
    }
}
