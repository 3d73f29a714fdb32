import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { AddAddressDocument, UpdateAddressDocument, type AddressFieldsFragment } from '../gql/graphql';
import { ErrorAlert } from '../components/ui';
import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/messages';

const COUNTRIES = ['CN', 'HK', 'SG', 'JP', 'US', 'DE'] as const;

const EMPTY = { name: '', phone: '', line1: '', city: '', country: 'CN' };

/** A new address, or an edit of `editing` (the edited copy gets a new id; orders keep the old one). */
export function AddressForm({ onSaved, editing }: { onSaved(address: AddressFieldsFragment): void; editing?: AddressFieldsFragment }) {
  const { t } = useI18n();
  const [fields, setFields] = useState(
    editing ? { name: editing.name, phone: editing.phone, line1: editing.line1, city: editing.city, country: editing.country } : EMPTY,
  );
  const [added, addAddress] = useMutation(AddAddressDocument);
  const [updated, updateAddress] = useMutation(UpdateAddressDocument);
  const set = (key: keyof typeof EMPTY) => (e: { target: { value: string } }) => setFields({ ...fields, [key]: e.target.value });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const input = { ...fields, name: fields.name.trim(), phone: fields.phone.trim(), line1: fields.line1.trim(), city: fields.city.trim() };
    const context = { additionalTypenames: ['Address'] };
    if (editing) {
      const res = await updateAddress({ id: editing.id, input }, context);
      if (res.data) onSaved(res.data.updateAddress);
      return;
    }
    const res = await addAddress({ input }, context);
    if (res.data) {
      setFields(EMPTY);
      onSaved(res.data.addAddress);
    }
  };

  const busy = added.fetching || updated.fetching;
  return (
    <form className="stack" aria-label={editing ? t('address.edit') : t('address.new')} onSubmit={(e) => void onSubmit(e)}>
      <label>
        {t('address.name')}
        <input required value={fields.name} onChange={set('name')} autoComplete="name" />
      </label>
      <label>
        {t('address.phone')}
        <input required type="tel" value={fields.phone} onChange={set('phone')} autoComplete="tel" />
      </label>
      <label>
        {t('address.line1')}
        <input required value={fields.line1} onChange={set('line1')} autoComplete="address-line1" />
      </label>
      <label>
        {t('address.city')}
        <input required value={fields.city} onChange={set('city')} autoComplete="address-level2" />
      </label>
      <label>
        {t('address.country')}
        <select value={fields.country} onChange={set('country')} autoComplete="country">
          {COUNTRIES.map((code) => (
            <option key={code} value={code}>
              {t(`address.country.${code}` as MessageKey)}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        {t('address.save')}
      </button>
      <ErrorAlert error={added.error ?? updated.error} />
    </form>
  );
}
