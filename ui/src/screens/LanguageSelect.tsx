// The language choice offered on the sign-in screen and in Settings. Language names are
// written in their own language so that a user can find theirs whatever is shown now.
import type { ChangeEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { LanguagePreference } from '../api';

const choices: readonly LanguagePreference[] = ['system', 'zh-CN', 'en'];

function isLanguagePreference(value: string): value is LanguagePreference {
  return (choices as readonly string[]).includes(value);
}

interface LanguageSelectProps {
  id: string;
  value: LanguagePreference;
  onChange: (language: LanguagePreference) => void;
  className?: string;
  describedBy?: string;
}

export function LanguageSelect({ id, value, onChange, className, describedBy }: LanguageSelectProps) {
  const { t } = useTranslation();
  const choose = (event: ChangeEvent<HTMLSelectElement>) => {
    if (isLanguagePreference(event.target.value)) onChange(event.target.value);
  };
  return (
    <select
      id={id}
      className={className === undefined ? 'select' : `select ${className}`}
      value={value}
      onChange={choose}
      aria-describedby={describedBy}
    >
      <option value="system">{t('language.system')}</option>
      <option value="zh-CN" lang="zh-CN">
        {t('language.zh-CN')}
      </option>
      <option value="en" lang="en">
        {t('language.en')}
      </option>
    </select>
  );
}
