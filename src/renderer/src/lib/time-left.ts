/**
 * A duration as the sign-in status shows it: "3 h 12 min", "4 min", "45 s". Whole units, with
 * seconds rounded up (so "1 s" until the moment it ends) and minutes and hours rounded down
 * (so the time shown is never more than what is left).
 */
export function formatTimeLeft(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  const rest = minutes % 60
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`
}
