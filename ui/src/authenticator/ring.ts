// The countdown ring around a time-based code: an SVG circle whose stroke shrinks as the code's
// period runs out. `stroke-dasharray` is the circumference; `stroke-dashoffset` hides the part
// of the period already gone.

export const RING_RADIUS = 45;

export function circumference(radius: number = RING_RADIUS): number {
  return 2 * Math.PI * radius;
}

/** The part of the period left, 0 to 1. */
export function ringFraction(secondsLeft: number, period: number): number {
  if (!(period > 0) || !Number.isFinite(secondsLeft)) return 0;
  return Math.min(1, Math.max(0, secondsLeft / period));
}

/** `stroke-dashoffset`: 0 with the whole period left, the circumference when it is over. */
export function ringOffset(secondsLeft: number, period: number, radius: number = RING_RADIUS): number {
  return circumference(radius) * (1 - ringFraction(secondsLeft, period));
}
