// The one answer to "this form cannot be drawn": a template from a newer Countersign, a
// template this computer does not have, or a bug in the renderer. The person sees a plain
// sentence with the template's id (for IT support), never a blank page or a crashed window.
import { Component } from 'react';
import type { ErrorInfo, ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { AlertIcon } from '../icons';

interface FormUnavailableProps {
  templateId: string | null;
  /** This computer does not have the template at all (rather than not understanding it). */
  missing?: boolean;
  /** Why, for IT support: shown small under the sentence. */
  detail?: string | null;
}

export function FormUnavailable({
  templateId,
  missing = false,
  detail = null,
}: FormUnavailableProps) {
  const { t } = useTranslation();
  return (
    <div className="form-unavailable" role="note" data-testid="form-unavailable">
      <AlertIcon />
      <div>
        <p className="form-unavailable-title">{t('form.unavailableTitle')}</p>
        <p>
          {templateId === null || templateId === ''
            ? t('form.unavailableBodyNoId')
            : missing
              ? t('form.unavailableMissing', { template: templateId })
              : t('form.unavailableBody', { template: templateId })}
        </p>
        {detail !== null && detail !== '' && (
          <p className="form-unavailable-detail">{t('form.unavailableDetail', { detail })}</p>
        )}
      </div>
    </div>
  );
}

interface FormBoundaryProps {
  templateId: string | null;
  children: ReactNode;
}

interface FormBoundaryState {
  failure: string | null;
}

/** Catches whatever the renderer throws on a form it did not expect. */
export class FormBoundary extends Component<FormBoundaryProps, FormBoundaryState> {
  override state: FormBoundaryState = { failure: null };

  static getDerivedStateFromError(error: unknown): FormBoundaryState {
    return { failure: error instanceof Error ? error.message : String(error) };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The log is what IT support will ask for; the person sees the placeholder.
    console.error('form renderer failed', error, info.componentStack);
  }

  override render() {
    if (this.state.failure !== null) {
      return <FormUnavailable templateId={this.props.templateId} detail={this.state.failure} />;
    }
    return this.props.children;
  }
}
