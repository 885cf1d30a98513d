// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestStablecoin
/// @notice Test only: a 6-decimal stablecoin (like USDC) that anyone can mint.
contract TestStablecoin is ERC20 {
    constructor() ERC20("Test USD", "tUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`; no access control (tests only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
