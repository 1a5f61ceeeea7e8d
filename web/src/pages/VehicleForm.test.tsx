import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../api";
import { I18nProvider } from "../i18n";
import { VehicleForm } from "./VehicleForm";

afterEach(cleanup);

function renderForm(props: Partial<React.ComponentProps<typeof VehicleForm>> = {}) {
  const onSubmit = vi.fn();
  const utils = render(
    <I18nProvider initial="en">
      <QueryClientProvider client={new QueryClient()}>
        <VehicleForm
          vehicle={null}
          garageId={3}
          movable={false}
          submitLabel="Add vehicle"
          pending={false}
          error={null}
          onSubmit={onSubmit}
          onEdit={() => {}}
          {...props}
        />
      </QueryClientProvider>
    </I18nProvider>,
  );
  return { onSubmit, ...utils };
}

function fill(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("VehicleForm", () => {
  it("checks fields as they are typed and sends nothing invalid", () => {
    const { onSubmit } = renderForm();
    fill("License plate", "AB/12");
    fireEvent.blur(screen.getByLabelText("License plate"));
    expect(screen.getByText("Letters A–Z, digits, spaces, hyphens and dots only.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Add vehicle" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("Correct the highlighted fields.")).toBeTruthy();
    expect(screen.getAllByText("Required.")).toHaveLength(3);
  });

  it("sends trimmed values with the garage", () => {
    const { onSubmit } = renderForm();
    fill("License plate", " ab-123-cd ");
    fill("Brand", " Renault ");
    fill("Model", "Clio");
    fill("Year", "2020");
    fireEvent.click(screen.getByRole("button", { name: "Add vehicle" }));
    expect(onSubmit).toHaveBeenCalledWith({
      garage_id: 3,
      license_plate: "ab-123-cd",
      brand: "Renault",
      model: "Clio",
      year: 2020,
      vin: null,
      registered_on: null,
    });
  });

  it("checks an optional VIN and sends it upper-cased", () => {
    const { onSubmit } = renderForm();
    fill("License plate", "ab-123-cd");
    fill("Brand", "Renault");
    fill("Model", "Clio");
    fill("Year", "2020");
    fill("VIN (optional)", "VF1RFB00X1234567O");
    fireEvent.blur(screen.getByLabelText("VIN (optional)"));
    expect(screen.getByText("17 letters and digits, without I, O or Q.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Add vehicle" }));
    expect(onSubmit).not.toHaveBeenCalled();
    fill("VIN (optional)", " vf1rfb00x12345678 ");
    fireEvent.click(screen.getByRole("button", { name: "Add vehicle" }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ vin: "VF1RFB00X12345678" }));
  });

  it("shows the server's refusal beside its field", () => {
    const error = new ApiError(409, {
      type: "/problems/duplicate-plate",
      detail: "taken",
      errors: [{ field: "license_plate", code: "duplicate", message: "taken" }],
    });
    renderForm({ error });
    const input = screen.getByLabelText("License plate");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("A vehicle with this plate is already registered.")).toBeTruthy();
  });
});
