// Placeholder of the desktop app's authenticator window (the desktop issue builds it). It is a
// second entry point of the same Vite project so that both pages share src/lib.
import { mount } from 'svelte';
import '../styles/app.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (target) mount(App, { target });
