import { useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { AddAddressDocument, type AddressFieldsFragment } from '../gql/graphql';
import { ErrorAlert } from '../components/ui';

const COUNTRIES = [
  ['CN', 'China'],
  ['HK', 'Hong Kong'],
  ['SG', 'Singapore'],
  ['JP', 'Japan'],
  ['US', 'United States'],
  ['DE', 'Germany'],
] as const;

const EMPTY = { name: '', phone: '', line1: '', city: '', country: 'CN' };

export function AddressForm({ onSaved }: { onSaved(address: AddressFieldsFragment): void }) {
  const [fields, setFields] = useState(EMPTY);
  const [result, addAddress] = useMutation(AddAddressDocument);
  const set = (key: keyof typeof EMPTY) => (e: { target: { value: string } }) => setFields({ ...fields, [key]: e.target.value });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const res = await addAddress(
      { input: { ...fields, name: fields.name.trim(), phone: fields.phone.trim(), line1: fields.line1.trim(), city: fields.city.trim() } },
      { additionalTypenames: ['Address'] },
    );
    if (res.data) {
      setFields(EMPTY);
      onSaved(res.data.addAddress);
    }
  };

  return (
    <form className="stack" aria-label="New address" onSubmit={(e) => void onSubmit(e)}>
      <label>
        Full name
        <input required value={fields.name} onChange={set('name')} autoComplete="name" />
      </label>
      <label>
        Phone
        <input required type="tel" value={fields.phone} onChange={set('phone')} autoComplete="tel" />
      </label>
      <label>
        Street address
        <input required value={fields.line1} onChange={set('line1')} autoComplete="address-line1" />
      </label>
      <label>
        City
        <input required value={fields.city} onChange={set('city')} autoComplete="address-level2" />
      </label>
      <label>
        Country
        <select value={fields.country} onChange={set('country')} autoComplete="country">
          {COUNTRIES.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={result.fetching}>
        Save address
      </button>
      <ErrorAlert error={result.error} />
    </form>
  );
}
