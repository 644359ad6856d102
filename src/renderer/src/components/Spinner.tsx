/** A small busy indicator with its text (the animation alone says nothing to a screen reader). */
export function Spinner({ label, testId }: { label: string; testId?: string }) {
  return (
    <span className="spinner-row" data-testid={testId}>
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </span>
  )
}
